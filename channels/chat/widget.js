/*! Switchboard chat widget. Embed with: <script src="https://HOST/widget.js" async></script>
 * Plain browser script, no build step. Speaks the /chat namespace (README, API).
 * Every piece of server text is rendered with textContent, never as HTML. */
(() => {
  const w = window;
  const d = document;
  if (w.Switchboard) return;

  const me =
    d.currentScript ||
    [...d.querySelectorAll('script[src]')].reverse().find((s) => /\/widget\.js([?#].*)?$/.test(s.src));
  const ORIGIN = new URL(me ? me.src : location.href).origin;
  // Where Switchboard is reached, with its path when it sits under one (https://example.com/help): its routes and
  // its socket.io path are under it too.
  const PREFIX = me ? new URL(me.src).pathname.replace(/\/widget\.js$/, '') : '';
  const BASE = `${ORIGIN}${PREFIX}`;
  const TOKEN = 'switchboard.visitorToken';
  const OPEN = 'switchboard.open';
  /** What the visitor was typing, kept for this tab (sessionStorage) so that a reload does not lose it. */
  const DRAFT = 'switchboard.draft';
  const SKIP = 'switchboard.prechatSkipped';
  /** The visitor wrote without answering the questions: they stay offered, as one line. */
  const LATER = 'switchboard.prechatLater';
  /** The questions: the input's type and autocomplete (their words are `name`, `nameWord`, … of the texts). */
  const FIELDS = {
    name: ['text', 'name'],
    email: ['email', 'email'],
    phone: ['tel', 'tel'],
  };
  const noop = () => {};
  /**
   * What the widget says, in the team's language: the policy's `locale` and `widgetTexts`, filled in here by the
   * server that serves this file (and sent again with `session`). Never rendered as HTML.
   */
  const CONFIG = /*switchboard:widget-config*/ null;
  let LOCALE = CONFIG?.locale || 'en';
  let T = CONFIG?.texts || {};
  /** English is said in Switchboard's own words (durations, lists), as it always was. */
  const english = () => /^en(-|$)/i.test(LOCALE);
  /** The text `key`, with its `{…}` filled from `values`. */
  const say = (key, values = {}) =>
    `${T[key] ?? ''}`.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  /** Dates and numbers: as the visitor's browser writes them in English, else in the team's language. */
  const dateLocale = () => (english() ? [] : LOCALE);

  /** localStorage that never throws (private mode, blocked storage): get with one argument, set/remove with two. */
  /** Read (`v` left out), remove (null) or set a key of a browser storage; a page that forbids it reads nothing. */
  const kept = (storage) => (k, v) => {
    try {
      const s = storage();
      if (v === undefined) return s.getItem(k);
      if (v === null) s.removeItem(k);
      else s.setItem(k, v);
    } catch {}
  };
  const store = kept(() => localStorage);
  const session = kept(() => sessionStorage);
  const draft = (v) => (v === undefined ? session(DRAFT) || '' : session(DRAFT, v || null));
  const uuid = () =>
    crypto.randomUUID
      ? crypto.randomUUID()
      : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
          (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16),
        );
  const h = (tag, props, ...kids) => {
    const el = d.createElement(tag);
    for (const k in props) {
      const v = props[k];
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (v != null) el.setAttribute(k, v);
    }
    el.append(...kids);
    return el;
  };

  // On a short screen (a phone held sideways, 400 % zoom) the open chat takes the height the launcher had, so the
  // message box and Send are never cut off; its close button and Escape close it.
  // Text is at least 4.5:1 against what is behind it (a message still going too); the focus ring is two rings, dark
  // outside and white inside, so one of them stands out at 3:1 or more on any background; a box's border is 3:1.
  const CSS = `:host{all:initial}
*{box-sizing:border-box;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328}
[hidden]{display:none!important}
.w{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;flex-direction:column;align-items:flex-end;gap:12px}
button{cursor:pointer;border:0;border-radius:8px;padding:8px 14px;background:#2451b8;color:#fff;font-weight:600}
button:focus-visible,textarea:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #1f2328;outline-offset:2px;box-shadow:0 0 0 2px #fff}
.v{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.l{width:56px;height:56px;border-radius:50%;padding:0;box-shadow:0 4px 14px #0004;position:relative}
.l svg{width:26px;height:26px;fill:#fff;vertical-align:middle}
.l.u:after{content:"";position:absolute;top:3px;right:3px;width:12px;height:12px;border-radius:50%;background:#cf222e;border:2px solid #fff}
.p{width:min(370px,calc(100vw - 40px));height:min(560px,calc(100vh - 110px));background:#fff;border-radius:12px;box-shadow:0 8px 30px #0004;display:flex;flex-direction:column;overflow:hidden;overflow-wrap:anywhere}
header{display:flex;align-items:center;justify-content:space-between;padding:10px 8px 10px 16px;background:#2451b8}
h2{margin:0;font-size:16px;font-weight:600;color:#fff}
header button{font-size:22px;line-height:1;padding:2px 10px}
header .x{margin-left:auto;padding:2px 6px}
.x svg{width:20px;height:20px;fill:#fff;vertical-align:middle}
.s{padding:8px 16px;background:#f2f4f8;border-bottom:1px solid #dde1e8;font-size:13px}
.s:empty,.r:empty{padding:0;border:0}
.r{padding:6px 16px;background:#fff3cd;font-size:13px}
.m{flex:1;overflow-y:auto;padding:12px 16px;display:flex;flex-direction:column;gap:8px}
.m:empty:before{content:attr(data-empty);color:#59636e;margin:auto;text-align:center}
.g{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere;background:#eef1f6;align-self:flex-start}
.g[data-direction=in]{align-self:flex-end;background:#2451b8;color:#fff}
.g.q{background:#4a6cc4}
.g.y{align-self:center;background:none;color:#59636e;font-size:13px;text-align:center}
.d{display:flex;align-items:center;gap:8px;color:#59636e;font-size:12px}
.d:before,.d:after{content:"";flex:1;border-top:1px solid #dde1e8}
.g b{display:block;font-size:12px;font-weight:600;color:#59636e}
.g .z{display:block;margin-top:2px;font-size:11px;text-align:end;color:#59636e}
.g[data-direction=in] .z{color:inherit}
.g.y .z{text-align:center}
.t{padding:0 16px 6px;font-size:12px;color:#59636e;font-style:italic}
.e{margin:0 16px 8px;padding:6px 10px;border-radius:6px;background:#ffebe9;color:#a40e26;font-size:13px}
.f{margin:0 16px 10px;padding:10px;border:1px solid #dde1e8;border-radius:8px;display:grid;gap:8px;min-height:0;overflow-y:auto}
.f p{margin:0}
label{display:grid;gap:2px;font-size:12px;color:#59636e}
input,textarea{width:100%;padding:7px 9px;border:1px solid #7d8590;border-radius:6px;background:#fff}
.f div{display:flex;gap:8px}
.f .k{background:none;color:#2451b8}
.f.o{padding:0;border:0;margin:0 16px 6px}
.f.o .k{padding:2px 0;font-size:13px;text-align:left}
.c{display:flex;gap:8px;padding:10px 16px;border-top:1px solid #dde1e8;align-items:flex-end}
.c button{flex:none;white-space:nowrap}
.c textarea{flex:1;min-width:0}
textarea{resize:none;height:40px;max-height:120px}
@media (max-width:480px){input,textarea{font-size:16px}}
@media (max-height:320px){.p{height:calc(100vh - 40px)}.w:has(>.p:not([hidden]))>.l{display:none}}
.c .a{background:none;color:#2451b8;padding:8px 4px}
.a svg{width:20px;height:20px;fill:currentColor;vertical-align:middle}
.g a{color:inherit;display:block;margin-top:4px;text-decoration:underline}
.g img{display:block;max-width:100%;max-height:200px;border-radius:6px}
.g a.k:before{content:"";display:inline-block;width:1em;height:1em;margin-right:3px;vertical-align:-2px;background:currentColor;mask:url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E%3Cpath d='M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z'/%3E%3C/svg%3E") center/contain no-repeat}`;

  let sock;
  let started;
  /** The pause before connecting again after the server could not set the chat up, and whether it said so. */
  let retryMs = 1000;
  let unavailableShown = false;
  let skipped = store(SKIP) === '1';
  let lastAt = 0;
  let typingOn = false;
  let typingAt = 0;
  let typingTimer;
  let theirTypingTimer;
  const byId = new Map();
  /** Sent messages whose ack has not arrived: resent with the same clientMessageId after a reconnect. */
  const pending = new Map();
  /** The last text the server did not take, with its id: the same text sent again keeps it. */
  let unsent = null;

  const host = h('div', { id: 'switchboard-widget' });
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>${CSS}</style><div class="w">
<div class="p" id="p" data-sb="panel" role="dialog" hidden>
<header><h2 data-sb="title"></h2><button type="button" class="x" data-sb="transcript" hidden><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3 5h18a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm1 2.4V17h16V7.4l-8 5.3zM5.2 7l6.8 4.5L18.8 7z"/></svg></button><button type="button" data-sb="close">×</button></header>
<div class="r" data-sb="reconnecting" role="status"></div>
<div class="s" data-sb="status" role="status"></div>
<div class="m" data-sb="messages" role="log" aria-live="off"></div>
<div class="t" data-sb="typing" hidden></div>
<form class="f" data-sb="prechat" hidden></form>
<div class="e" data-sb="error" role="alert" hidden></div>
<form class="c"><button type="button" class="a" data-sb="attach"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z"/></svg></button><input type="file" data-sb="file" hidden><textarea data-sb="input"></textarea><button data-sb="send"></button></form>
</div>
<div class="v" data-sb="announce" aria-live="polite"></div>
<button type="button" class="l" data-sb="launcher" aria-expanded="false" aria-controls="p"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg></button>
</div>`;
  const $ = (n) => root.querySelector(`[data-sb=${n}]`);
  const panel = $('panel');
  const launcher = $('launcher');
  const list = $('messages');
  const statusEl = $('status');
  const typingEl = $('typing');
  const rec = $('reconnecting');
  const pre = $('prechat');
  const errEl = $('error');
  const input = $('input');
  const fileInput = $('file');
  const announcer = $('announce');
  const wrap = root.querySelector('.w');

  /** The longest message the server takes. */
  const MAX_TEXT = 4000;
  /** Error codes that mean the fault is ours, not the message's. */
  const OUR_SIDE = new Set(['store_unavailable', 'corrupt_record', 'internal']);
  /**
   * Said once, politely, to a screen reader: a new message, also while the chat is closed. The log itself is quiet,
   * so the history a reload or a reconnect brings back, and the visitor's own words echoed, are not read again.
   */
  const announce = (text) => {
    announcer.append(h('p', { text }));
    while (announcer.childElementCount > 3) announcer.firstElementChild.remove();
  };
  /** Whether the history of a (re)connect is arriving: until its status, nothing in it is new. */
  let replaying = false;
  let lost = false;
  const reconnecting = (on) => {
    lost = on;
    const text = on ? say('reconnecting') : '';
    if (rec.textContent !== text) rec.textContent = text;
  };
  /** The launcher says in words what its red dot shows: a reply came while the chat was closed. */
  const unread = (on) => {
    launcher.classList.toggle('u', on);
    launcher.setAttribute('aria-label', say(on ? 'openUnread' : 'open'));
  };
  /** The words of the chat's own parts, in the team's language (again when `session` brings others). */
  const label = () => {
    wrap.lang = LOCALE;
    panel.setAttribute('aria-label', say('title'));
    $('title').textContent = say('title');
    for (const [n, key] of [
      ['transcript', 'emailChat'],
      ['attach', 'attach'],
    ]) {
      $(n).setAttribute('aria-label', say(key));
      $(n).title = say(key);
    }
    $('close').setAttribute('aria-label', say('close'));
    list.setAttribute('aria-label', say('messages'));
    list.dataset.empty = say('empty');
    input.setAttribute('aria-label', say('message'));
    input.placeholder = say('placeholder');
    $('send').textContent = say('send');
    unread(launcher.classList.contains('u'));
    reconnecting(lost);
  };
  label();
  const showErr = (text) => {
    errEl.textContent = text || '';
    errEl.hidden = !text;
  };
  const atBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  // The newest message stays in sight when the list's box shrinks under it (the status line, the questions or
  // an error appearing), unless the visitor scrolled up to read.
  let pinned = true;
  list.addEventListener('scroll', () => {
    pinned = atBottom();
  });
  if (w.ResizeObserver)
    new ResizeObserver(() => {
      if (pinned) list.scrollTop = list.scrollHeight;
    }).observe(list);

  /** Insert or replace a bubble under `key`, keeping the list ordered by `at`. */
  const put = (key, at, el) => {
    const old = byId.get(key);
    // The same message again (the history a reconnect brings back): its bubble stays, and the focus in it.
    if (old?.isConnected && old.at === at && el.sig && old.sig === el.sig) return;
    const stick = atBottom();
    old?.remove();
    byId.set(key, el);
    el.at = at;
    let next = null;
    for (const c of list.children)
      if (c.at > at) {
        next = c;
        break;
      }
    list.insertBefore(el, next);
    marks();
    if (stick) list.scrollTop = list.scrollHeight;
  };
  /**
   * With more than one conversation in the list (a returning visitor's earlier ones), each begins under a quiet
   * line with its date and time; a bubble not yet confirmed belongs to the one above it.
   */
  const marks = () => {
    const firsts = new Map();
    let prev;
    for (const c of list.children) {
      if (!c.conv || c.sep) continue;
      if (c.conv !== prev && !firsts.has(c.conv)) firsts.set(c.conv, c);
      prev = c.conv;
    }
    const want = firsts.size > 1 ? firsts : new Map();
    for (const c of [...list.children]) if (c.sep && want.get(c.sep) !== c.nextElementSibling) c.remove();
    for (const [conv, first] of want) {
      if (first.previousElementSibling?.sep === conv) continue;
      const text = new Date(first.at).toLocaleString(dateLocale(), {
        dateStyle: 'medium',
        timeStyle: 'short',
      });
      const line = h('div', {
        class: 'd',
        'data-sb': 'separator',
        role: 'separator',
        'aria-label': text,
        text,
      });
      line.sep = conv;
      line.at = first.at;
      list.insertBefore(line, first);
    }
  };
  /**
   * Under a message, small: its time (the date too when not today), in the team's language, or "Sending…" while
   * the server has not taken it. In the text, so that the keyboard, a touch screen and a screen reader reach it
   * (a tooltip they could not), and a message still going is told in words, not only by its colour.
   */
  const when = (at, sending) => {
    if (sending) return h('span', { class: 'z', 'data-sb': 'sending', text: say('messageSending') });
    const t = new Date(at);
    const today = t.toDateString() === new Date().toDateString();
    return h('time', {
      class: 'z',
      'data-sb': 'time',
      datetime: t.toISOString(),
      text: t.toLocaleString(
        dateLocale(),
        today ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' },
      ),
    });
  };
  /** A message's bubble; `queued` while the server has not taken it: true for a text, 'file' for a file going. */
  const bubble = (m, queued) => {
    const sys = m.author?.type === 'system';
    const el = h('div', {
      'data-sb': 'message',
      'data-direction': m.direction,
      class: `g${sys ? ' y' : ''}${queued ? ' q' : ''}`,
      dir: 'auto',
    });
    el.sig = JSON.stringify([m.direction, m.author, m.text, m.attachments, !!queued]);
    el.conv = m.conversationId;
    if (m.direction === 'out' && !sys) el.append(h('b', { text: m.author?.name || say('support') }));
    // Who wrote it, in words and not only by side and colour.
    else if (m.direction === 'in') el.append(h('span', { class: 'v', text: `${say('you')}: ` }));
    el.append(m.text);
    // Files: a picture shows; anything else is a link that opens it (served sandboxed, never run).
    for (const a of m.attachments || []) {
      if (!/^https?:\/\//i.test(a?.url || '')) continue;
      const pic = /^image\/(png|jpeg|gif|webp)$/i.test(a.type || '');
      el.append(
        h(
          'a',
          {
            href: a.url,
            target: '_blank',
            rel: 'noopener noreferrer',
            'data-sb': 'attachment',
            class: pic ? null : 'k',
          },
          pic ? h('img', { src: a.url, alt: a.name || say('picture') }) : a.name || say('file'),
        ),
      );
    }
    // A file going says so in its own words ("Sending receipt.png…").
    if (queued === true || (!queued && Number(m.at) > 0)) el.append(when(Number(m.at), queued === true));
    return el;
  };
  /** A message as a screen reader says it when it arrives. */
  const spoken = (m) => {
    const files = (m.attachments || []).map((a) => say('spokenFile', { name: a?.name || say('file') }));
    const what = [m.text, ...files].filter(Boolean).join('. ');
    const who = m.author?.type === 'system' ? '' : `${m.author?.name || say('support')}: `;
    return `${panel.hidden ? `${say('newMessage')} ` : ''}${who}${what}`;
  };
  /** What a message shows of itself, to tell our own echoed back (text and file names). */
  const sig = (text, names) => `${`${text || ''}`.trim()}\n${(names || []).join('\n')}`;

  const setOpen = (open, focus) => {
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', open);
    store(OPEN, open ? '1' : '0');
    if (open) {
      unread(false);
      start();
      list.scrollTop = list.scrollHeight;
      if (focus) input.focus();
    } else if (focus || root.activeElement) launcher.focus();
  };

  const setTyping = (on) => {
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(setTyping, 2000, false);
    const now = Date.now();
    if (on === typingOn && !(on && now - typingAt > 4000)) return;
    typingOn = on;
    typingAt = now;
    if (sock?.connected) sock.emit('typing', { typing: on }, noop);
  };

  const emitMessage = (p) => {
    if (!sock?.connected) return; // sent on (re)connect
    sock.emit('message', { text: p.text, clientMessageId: p.id, files: p.files || [] }, (a) => {
      if (pending.get(p.id) !== p) return;
      pending.delete(p.id);
      const key = `c:${p.id}`;
      const el = byId.get(key);
      byId.delete(key);
      if (a?.ok) {
        if (el && !byId.has(a.messageId)) {
          el.classList.remove('q');
          el.querySelector('[data-sb=sending]')?.replaceWith(when(el.at));
          byId.set(a.messageId, el);
        } else el?.remove();
      } else {
        el?.remove();
        if (p.text) input.value = input.value ? `${p.text}\n${input.value}` : p.text;
        // Sent again as it is, it goes with the same id: had the server stored it after all (a store that
        // answered too late), it is stored once.
        if (p.text) unsent = { text: p.text, id: p.id };
        // A failure on our side gets words for a customer; the others (too long, too fast) say what to change.
        showErr(
          a?.error?.code === 'blocked'
            ? say('notSentClosed')
            : OUR_SIDE.has(a?.error?.code) || !a?.error?.message
              ? say('notSentUnavailable')
              : say('notSent', { why: `${a.error.message}`.replace(/\.$/, '') }),
        );
      }
    });
  };

  /** The details typed in the questions, or null when none is. */
  const typedDetails = () => {
    const body = {};
    for (const el of pre.querySelectorAll('input')) if (el.value.trim()) body[el.name] = el.value.trim();
    return Object.keys(body).length ? body : null;
  };
  /** Details typed before the chat was connected, given once it is. */
  let detailsLater = null;
  const send = () => {
    const text = input.value.trim();
    if (!text) return;
    // The server takes at most MAX_TEXT characters: said here, in words, before anything is sent.
    if (text.length > MAX_TEXT) {
      const n = (x) => x.toLocaleString(english() ? 'en-US' : LOCALE);
      showErr(say('tooLong', { count: n(text.length), max: n(MAX_TEXT) }));
      return;
    }
    input.value = '';
    draft('');
    input.style.height = '';
    showErr();
    setTyping(false);
    replaying = false;
    const id = unsent?.text === text ? unsent.id : uuid();
    unsent = null;
    // What they typed in the questions goes with the message, though they pressed Send and not Continue.
    if (!pre.hidden && typedDetails()) {
      if (sock?.connected) pre.requestSubmit();
      else detailsLater = typedDetails();
    }
    // Written to us with the questions left blank: they fold away (still offered).
    if (
      !pre.hidden &&
      !pre.classList.contains('o') &&
      ![...pre.querySelectorAll('input')].some((el) => el.value.trim())
    ) {
      store(LATER, '1');
      showPrechat(asked);
    }
    const p = { id, text };
    pending.set(p.id, p);
    put(`c:${p.id}`, Math.max(Date.now(), lastAt + 1), bubble({ direction: 'in', text }, true));
    list.scrollTop = list.scrollHeight;
    start();
    emitMessage(p);
  };

  /** Upload a file (POST /chat/files with the visitor token), then send it as a message. */
  const sendFile = async (file) => {
    const token = store(TOKEN);
    if (!token) {
      start();
      return showErr(say('notConnected'));
    }
    showErr();
    const p = { id: uuid(), text: '', names: [file.name] };
    const key = `c:${p.id}`;
    put(
      key,
      Math.max(Date.now(), lastAt + 1),
      bubble({ direction: 'in', text: say('sending', { name: file.name }) }, 'file'),
    );
    list.scrollTop = list.scrollHeight;
    let answer;
    try {
      const res = await fetch(`${BASE}/chat/files`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': file.type || 'application/octet-stream',
          'X-File-Name': encodeURIComponent(file.name),
        },
        body: file,
      });
      answer = await res.json().catch(() => ({}));
      if (!res.ok) throw answer;
    } catch (e) {
      byId.get(key)?.remove();
      byId.delete(key);
      // What to change (too large, too many) is said; a fault on our side, or a session to renew, is not.
      const code = e?.error?.code;
      const why =
        code === 'not_found'
          ? say('noFiles')
          : e?.error?.message && !OUR_SIDE.has(code) && code !== 'unauthorized'
            ? e.error.message
            : say('fileUnavailable');
      return showErr(say('fileNotSent', { name: file.name, why }));
    }
    p.files = [answer.file.upload];
    pending.set(p.id, p);
    emitMessage(p);
  };

  // "3 minutes", "5 hours", "2 days": rounded up, as a wait is quoted; in the team's language ("3 minutos").
  const inWords = (seconds) => {
    const [n, unit] =
      seconds <= 90 * 60
        ? [Math.max(1, Math.ceil(seconds / 60)), 'minute']
        : seconds <= 36 * 3600
          ? [Math.ceil(seconds / 3600), 'hour']
          : [Math.ceil(seconds / 86400), 'day'];
    if (!english())
      try {
        return new Intl.NumberFormat(LOCALE, { style: 'unit', unit, unitDisplay: 'long' }).format(n);
      } catch {}
    return `${n} ${unit}${n > 1 ? 's' : ''}`;
  };

  /** When a person answers: the quoted wait, or when the team is back. */
  const waitText = (s) => {
    const eta = s.etaSeconds;
    const opens = s.closed?.opensInSeconds;
    return eta != null
      ? say('answerWithin', { wait: inWords(eta) })
      : !s.closed
        ? // Nobody available, someone away: nobody is busy serving others.
          say(s.nobodyFree ? 'nobodyFree' : 'answerWhenFree')
        : opens == null
          ? say('nobodyWorking')
          : say('closed', { opens: s.closed.opens || say('opensIn', { wait: inWords(opens) }) });
  };

  const statusText = (s) => {
    if (s.state === 'queued') {
      // Back soon after giving up a wait: the place they had is kept, and said so.
      const kept = s.keptPlace ? `${say('placeKept')} ` : '';
      return `${s.position ? say('inLineAt', { position: s.position }) : say('inLine')} ${kept}${waitText(s)}`;
    }
    const name = s.agent?.name || say('someoneOfUs');
    // Their person stepped away: what they write waits for them, then goes to the next free colleague if they
    // are not back (no time a colleague answers by is promised until it is in line and quoted).
    if (s.state === 'assigned' && s.ownerAway) {
      const gone = say(s.ownerOffline ? 'ownerOffline' : 'ownerAway', { owner: name });
      if (s.handOverSeconds != null)
        return `${gone} ${say(s.ownerOffline ? 'handOverOffline' : 'handOverAway', { wait: inWords(s.handOverSeconds) })}`;
      return `${gone} ${s.position ? `${say('inLineForColleague', { position: s.position })} ` : ''}${waitText(s)}`;
    }
    if (s.state === 'assigned') return say('chatting', { agent: name });
    if (s.state !== 'resolved') return '';
    return say(s.blocked ? 'resolvedBlocked' : 'resolved');
  };

  /** "name and email", "name, email and phone"; in another language, as it joins a list ("nombre y correo"). */
  const inList = (words) => {
    if (!english() && Intl.ListFormat)
      try {
        return new Intl.ListFormat(LOCALE, { type: 'conjunction' }).format(words);
      } catch {}
    return words.length < 2
      ? words.join('')
      : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
  };
  let asked = [];
  const showPrechat = (ask) => {
    const keys = (ask || []).filter((k) => FIELDS[k]);
    asked = keys;
    pre.hidden = skipped || !keys.length;
    // Folded to one line once the visitor writes without it: the conversation keeps the room.
    const later = store(LATER) === '1';
    pre.classList.toggle('o', later);
    if (later) {
      const open = () => {
        store(LATER, null);
        showPrechat(asked);
        pre.querySelector('input')?.focus();
      };
      const what = inList(keys.map((k) => say(`${k}Word`)));
      pre.replaceChildren(
        h('button', {
          type: 'button',
          class: 'k',
          'data-sb': 'prechat-open',
          text: say('prechatLater', { fields: what }),
          onclick: open,
        }),
      );
      return;
    }
    pre.replaceChildren(
      h('p', { text: say('prechat') }),
      ...keys.map((k) =>
        h('label', {}, say(k), h('input', { name: k, type: FIELDS[k][0], autocomplete: FIELDS[k][1] })),
      ),
      h(
        'div',
        {},
        h('button', { text: say('continue') }),
        h('button', { type: 'button', class: 'k', text: say('skip'), onclick: () => hidePrechat(true) }),
      ),
    );
  };
  const hidePrechat = (skip) => {
    skipped = skip;
    if (skip) store(SKIP, '1');
    const focused = root.activeElement && pre.contains(root.activeElement);
    pre.hidden = true;
    if (focused) input.focus();
  };

  const connect = () => {
    sock = w.io(`${ORIGIN}/chat`, {
      path: `${PREFIX}/socket.io`,
      auth: (cb) => {
        const t = store(TOKEN);
        // What the page is about (`data-topic` on this script tag): the team's entry point for a new chat.
        const topic = me?.dataset?.topic;
        cb({ ...(t ? { visitorToken: t } : {}), ...(topic ? { topic } : {}) });
      },
    });
    const down = () => reconnecting(true);
    sock.on('connect', () => {
      reconnecting(false);
      typingOn = false;
      for (const p of pending.values()) emitMessage(p);
    });
    sock.on('disconnect', (reason) => {
      down();
      // The server could not set the chat up (its store away): again after a pause that doubles up to 30 s,
      // not at once (a tab would knock thousands of times a minute).
      if (reason === 'io server disconnect') {
        setTimeout(() => sock.connect(), retryMs);
        retryMs = Math.min(retryMs * 2, 30_000);
      }
    });
    sock.io.on('reconnect_attempt', down);
    sock.on('connect_error', (err) => {
      if (err?.message === 'invalid_visitor_token') {
        // The server cannot take this chat back (it was started again without its keys, say): what shows
        // goes, and the visitor is told the chat starts afresh, not left reading a thread nobody sees.
        store(TOKEN, null);
        if (list.children.length > 0) {
          list.replaceChildren();
          byId.clear();
          const note = {
            direction: 'out',
            author: { type: 'system' },
            text: say('afresh'),
            at: Date.now(),
          };
          put('afresh', note.at, bubble(note));
        }
        sock.connect();
      } else down();
    });
    sock.on('session', (s) => {
      retryMs = 1000;
      replaying = true;
      if (detailsLater) {
        identify(detailsLater);
        detailsLater = null;
      }
      // The notice of a failed setup is over once a session comes.
      if (unavailableShown) {
        unavailableShown = false;
        showErr();
      }
      if (s?.visitorToken) store(TOKEN, s.visitorToken);
      // The team's words, as the server has them now (this file may be older than its policy).
      if (s?.texts && typeof s.texts === 'object') {
        T = { ...T, ...s.texts };
        if (typeof s.locale === 'string') LOCALE = s.locale;
        label();
        if (!pre.hidden) showPrechat(asked);
      }
      // Once there is a conversation, and when email is on, it can be sent by email.
      $('transcript').hidden = !(s?.transcripts && s.conversationId);
    });
    sock.on('prechat', (p) => showPrechat(p?.ask));
    sock.on('error_notice', (e) => {
      unavailableShown = true;
      showErr(say('unavailable') || e?.message);
    });
    sock.on('status', (s) => {
      replaying = false;
      // Said once: the same status again (a reconnect, the next message) is not read out again.
      const text = statusText(s || {});
      if (statusEl.textContent !== text) statusEl.textContent = text;
      // What went wrong with a file or a message belongs to the conversation that just closed.
      if (s?.state === 'resolved') showErr();
    });
    sock.on('typing', (t) => {
      clearTimeout(theirTypingTimer);
      typingEl.textContent = say('typing', { name: t?.name || say('someone') });
      typingEl.hidden = !t?.typing;
      if (t?.typing) theirTypingTimer = setTimeout(() => (typingEl.hidden = true), 15000);
    });
    // What was said in the visitor's earlier conversations (a few of the latest), before the one shown: read
    // again, never new (no dot, nothing said aloud).
    sock.on('history', (hist) => {
      for (const m of Array.isArray(hist?.messages) ? hist.messages : []) {
        if (typeof m?.id !== 'string' || typeof m.conversationId !== 'string') continue;
        const at = Number(m.at) || 0;
        lastAt = Math.max(lastAt, at);
        put(m.id, at, bubble(m));
      }
    });
    sock.on('message', (m) => {
      if (!m?.id) return;
      const at = Number(m.at) || Date.now();
      lastAt = Math.max(lastAt, at);
      const known = byId.has(m.id);
      if (m.direction === 'in') {
        // Our own message echoed back: it replaces the "sending" bubble.
        const mine = sig(
          m.text,
          (m.attachments || []).map((a) => a.name),
        );
        for (const p of pending.values())
          if (sig(p.text, p.names) === mine && byId.has(`c:${p.id}`)) {
            byId.get(`c:${p.id}`).remove();
            byId.delete(`c:${p.id}`);
            break;
          }
      } else {
        typingEl.hidden = true;
        if (panel.hidden && !known) unread(true);
        if (!known && !replaying) announce(spoken(m));
      }
      put(m.id, at, bubble(m));
    });
  };

  /** Load the socket.io client from the server if the page does not have one, then connect. */
  function start() {
    if (started) return;
    started = true;
    if (w.io) return connect();
    // An AMD loader on the host page would swallow the UMD bundle: hide it while ours loads.
    const amd = w.define?.amd;
    if (amd) w.define.amd = undefined;
    const restore = () => {
      if (amd) w.define.amd = amd;
    };
    d.head.append(
      h('script', {
        src: `${BASE}/socket.io/socket.io.min.js`,
        onload: () => {
          restore();
          connect();
        },
        onerror: () => {
          restore();
          started = false;
          reconnecting(true);
          setTimeout(start, 5000);
        },
      }),
    );
  }

  launcher.onclick = () => setOpen(panel.hidden, true);
  $('close').onclick = () => setOpen(false, true);
  // The conversation by email, to the address the visitor gave (asked for first when there is none).
  $('transcript').onclick = () => {
    if (!sock?.connected) return showErr(say('notConnected'));
    sock.emit('transcript.email', {}, (a) => {
      if (a?.ok) {
        showErr();
        const text = say(a.sent ? 'emailed' : 'emailedAlready', { to: a.to });
        put(`transcript-${Date.now()}`, Date.now(), h('div', { class: 'g y', 'data-sb': 'notice', text }));
        announce(text);
      } else if (a?.error?.code === 'no_email') {
        showErr(say('emailFirst'));
        skipped = false;
        store(LATER, null);
        showPrechat(['email']);
        pre.querySelector('input')?.focus();
      } else showErr(a?.error?.message || say('failed'));
    });
  };
  // Escape closes the chat from anywhere in it, the launcher too; the focus goes back to the launcher.
  wrap.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !e.isComposing && !panel.hidden) {
      e.preventDefault();
      setOpen(false, true);
    }
  });
  // A phone's on-screen keyboard covers the bottom of the page without making it shorter: the chat moves up above
  // it and keeps to what is left, so the message box, Send and the close button stay in sight. Zooming in (the
  // scale grows) is left alone.
  const vv = w.visualViewport;
  const fit = () => {
    const covered = Math.abs(vv.scale - 1) < 0.01 ? Math.round(w.innerHeight - vv.height - vv.offsetTop) : 0;
    wrap.style.bottom = covered > 0 ? `${covered + 20}px` : '';
    panel.style.height = covered > 0 ? `${Math.max(120, Math.min(560, vv.height - 110))}px` : '';
  };
  vv?.addEventListener('resize', fit);
  vv?.addEventListener('scroll', fit);
  $('attach').onclick = () => fileInput.click();
  // A screenshot pasted into the message box, or a file dropped on the chat, is sent as with the paperclip.
  input.addEventListener('paste', (e) => {
    const file = e.clipboardData?.files?.[0];
    if (file) {
      e.preventDefault();
      sendFile(file);
    }
  });
  panel.addEventListener('dragover', (e) => e.preventDefault());
  panel.addEventListener('drop', (e) => {
    const file = e.dataTransfer?.files?.[0];
    if (file) {
      e.preventDefault();
      sendFile(file);
    }
  });
  fileInput.onchange = () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (file) sendFile(file);
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  input.addEventListener('input', () => {
    draft(input.value);
    input.style.height = '';
    input.style.height = `${Math.min(input.scrollHeight + 2, 120)}px`;
    setTyping(!!input.value.trim());
  });
  root.querySelector('.c').onsubmit = (e) => {
    e.preventDefault();
    send();
    input.focus();
  };
  pre.onsubmit = (e) => {
    e.preventDefault();
    const body = typedDetails();
    if (!body) return hidePrechat(true);
    if (!sock?.connected) return showErr(say('notConnected'));
    identify(body);
  };
  /** The identify of the details typed, once there is a session: the form folds when they are taken. */
  const identify = (body) =>
    sock.emit('identify', body, (a) => {
      if (a?.ok) {
        showErr();
        hidePrechat(true);
      } else {
        showErr(a?.error?.message || say('checkDetails'));
        if (FIELDS[a?.error?.field]) pre.querySelector(`[name=${a.error.field}]`)?.focus();
      }
    });

  w.Switchboard = { open: () => setOpen(true, true), close: () => setOpen(false) };

  // A page view alone connects nothing (and so stores no visitor): the chat connects when it is opened, or at
  // once for a returning visitor, whose token brings their conversation (and its unread replies) back.
  const init = () => {
    d.body.append(host);
    // What they were typing before a reload, back in the box.
    if (!input.value) input.value = draft();
    if (store(OPEN) === '1') setOpen(true);
    else if (store(TOKEN)) start();
  };
  if (d.body) init();
  else d.addEventListener('DOMContentLoaded', init);
})();
