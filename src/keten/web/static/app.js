// keten — small progressive enhancement; every page works without it.
// Forms with data-progress upload their file with XMLHttpRequest and show the upload's
// progress in the <progress> element named by data-progress; the server's answer (a page)
// replaces the document. The CSRF token travels in the form itself.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var bar = document.getElementById(form.dataset.progress);
      var status = document.getElementById(form.dataset.progress + "-status");
      if (!bar || !window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open(form.method || "POST", form.action);
      bar.hidden = false;
      bar.value = 0;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.max = e.total;
          bar.value = e.loaded;
          if (status) { status.textContent = Math.round(100 * e.loaded / e.total) + "%"; }
        }
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value");  // indeterminate while the server checks the file
        if (status) { status.textContent = form.dataset.checking || "…"; }
      });
      xhr.addEventListener("load", function () {
        if (xhr.responseURL && xhr.responseURL !== form.action && xhr.status < 400) {
          window.location.assign(xhr.responseURL);
          return;
        }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () {
        if (status) { status.textContent = form.dataset.failed || "upload failed"; }
      });
      xhr.send(new FormData(form));
    });
  });
});
