/* Moved out of templates/backoffice/attendance.html (no inline script: the Content-Security-Policy forbids them). */
/* One tap = one request: without JavaScript the button submits the form and the page comes
   back at the child's row; with it, the tap is sent in the background, the row is replaced by
   the server's and the result is announced (and shown at the bottom of the screen). */
(function () {
  var form = document.querySelector(".attendance-form");
  var live = document.getElementById("pointage-annonce");
  if (!form || !live || !window.fetch || !window.FormData) return;
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !/^(present|absent):\d+$/.test(button.value)) return;
    event.preventDefault();
    var data = new FormData(form);
    data.append("action", button.value);
    button.setAttribute("aria-busy", "true");
    fetch(window.location.href, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-Requested-With": "fetch", "Accept": "application/json"}
    }).then(function (response) {
      if (!response.ok && response.status !== 409 && response.status !== 400) throw new Error(response.status);
      return response.json();
    }).then(function (reply) {
      var row = document.getElementById("enfant-" + reply.child);
      if (row && reply.row) {
        row.outerHTML = reply.row;
        var again = document.querySelector("#enfant-" + reply.child + ' button[value="' + button.value + '"]');
        if (again) again.focus();
      } else {
        button.removeAttribute("aria-busy");
      }
      if (reply.counts) document.getElementById("compteurs").innerHTML = reply.counts;
      live.textContent = reply.message;
      live.className = "attendance-live message message-" + reply.level;
    }).catch(function () {
      /* Anything unexpected: submit the ordinary way. */
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "action"; input.value = button.value;
      form.appendChild(input);
      form.submit();
    });
  });
})();
