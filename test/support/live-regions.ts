// What a screen reader would say, read from a page in the browser tests: every node or text added inside a live
// region (one whose politeness is not "off"), recorded by a MutationObserver from the page's start.

/** An init script (`addInitScript`): `window.__said`, what was added to the page's live regions, as `<region>: <text>`. */
export const LIVE_REGION_RECORDER = `
  window.__said = [];
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const live = el && el.closest('[aria-live],[role=log],[role=status],[role=alert]');
      if (!live || live.getAttribute('aria-live') === 'off') continue;
      const text = r.type === 'characterData' ? r.target.data : [...r.addedNodes].map((n) => n.textContent).join('');
      if (text.trim()) window.__said.push((live.dataset.sb || live.id) + ': ' + text.trim());
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;
