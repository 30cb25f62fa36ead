/* Moved out of templates/bookings/everywhere.html (no inline script: the Content-Security-Policy forbids them). */
// Progressive enhancement: copy the subscription address (selected by hand without JavaScript).
document.querySelectorAll('[data-copy]').forEach(button => {
  button.hidden = false;
  button.addEventListener('click', () => {
    const input = document.getElementById(button.dataset.copy);
    input.select();
    navigator.clipboard?.writeText(input.value).then(() => { button.textContent = 'Copié'; });
  });
});
