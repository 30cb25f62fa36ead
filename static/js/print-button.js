/* Moved out of templates/backoffice/headcount_print.html (no inline script: the Content-Security-Policy forbids them). */
// Progressive enhancement: the button appears only where a script can print.
const printButton = document.getElementById('imprimer');
printButton.hidden = false;
printButton.addEventListener('click', () => window.print());
