// Where keyboard focus goes when the thing that had it is gone (a page change, a deleted row): to
// the page's heading, so a screen reader says where the person is and Tab starts from the top.
export function focusPageHeading(): void {
  const heading = document.querySelector<HTMLElement>('main h1');
  if (!heading) return;
  // A heading is not focusable by itself; -1 lets a script focus it without adding a Tab stop.
  heading.tabIndex = -1;
  heading.focus();
}
