/* Moved out of templates/base.html (no inline script: the Content-Security-Policy forbids them). */
// A form sent back with errors: its summary gets the focus (RGAA 11.10).
document.querySelector('.error-summary')?.focus();
