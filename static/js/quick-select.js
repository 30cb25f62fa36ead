/* Moved out of templates/bookings/product.html (no inline script: the Content-Security-Policy forbids them). */
// Progressive enhancement: quick selection of a week or the whole month.
document.querySelectorAll('.js-only').forEach(el => el.hidden = false);
document.querySelectorAll('[data-select]').forEach(button => button.addEventListener('click', () => {
  const scope = button.dataset.select === 'week' ? button.closest('tr') : document.querySelector('table.month');
  scope.querySelectorAll('input[name=dates]').forEach(box => box.checked = button.dataset.select !== 'none');
}));
