// The appointment week grid (templates/desk/appointment_week.html) replaces itself when another
// desk books (htmx polling, outerHTML). Keep where it was scrolled sideways on a narrow screen,
// so a tablet looking at the second staff member is not thrown back to the first.
(() => {
  let scrolledTo = 0;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.id !== "appt-week-grid") return;
    const box = event.detail.target.querySelector(".appt-scroll");
    scrolledTo = box ? box.scrollLeft : 0;
  });
  document.addEventListener("htmx:afterSwap", () => {
    const box = document.querySelector("#appt-week-grid .appt-scroll");
    if (box && scrolledTo) box.scrollLeft = scrolledTo;
  });
})();
