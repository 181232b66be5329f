// Switchboard web agent console. Plain browser script, no build step; speaks the
// /agent namespace (README, API). Everything that comes from the server or a
// customer is rendered with textContent, never as HTML.
(() => {
  // Where Switchboard is reached, with its path when it sits under one (https://example.com/help/console).
  const BASE = location.pathname.replace(/\/console\/?$/, '');
  const TOKEN_KEY = 'switchboard.agentToken';
  const ACK_TIMEOUT = 10_000;
  const TYPING_IDLE = 2_000;
  const STATUS_LABEL = { available: 'Available', away: 'Away', offline: 'Offline' };
  const CONV_STATUS = { queued: 'Waiting', assigned: 'Open', resolved: 'Resolved', abandoned: 'Abandoned' };
  const CHANNEL_NAMES = { voice: 'calls', sms: 'texts', chat: 'chat', email: 'email' };
  // Where a fact came from, in words (as channels/views.ts `factSource` says it on Slack cards).
  const FACT_SOURCE = {
    'chat:prechat': 'the chat form',
    'voice:from': 'their call',
    'sms:from': 'their text',
    'email:from': 'their email',
    'chat:from': 'the chat',
  };
  const ROLE_LABEL = {
    owner: 'Yours',
    consultant: 'Consulting',
    cover: 'Covering',
    invited: 'Invited to consult',
    offered: 'Hand-off offered to you',
  };
  const PROMISE_KIND = {
    wait: 'Quoted wait',
    callback: 'Callback',
    'follow-up': 'Follow-up',
    agent: 'Agent promise',
  };
  const DELIVERY = { pending: 'Sending…', sent: 'Sent', delivered: 'Delivered', failed: 'Not delivered' };
  /** Where to put the cursor when the server names a bad field. */
  const FIELD_INPUT = {
    text: 'reply-input',
    note: 'handoff-note',
    agentId: 'consult-pick',
    toAgentId: 'handoff-pick',
    dueAt: 'promise-due',
    followUpAt: 'followup',
    // What the customer told the agent (Details…).
    name: 'details-name',
    email: 'details-email',
    phone: 'details-phone',
  };

  // ------------------------------------------------------------------ helpers

  const byId = (id) => document.getElementById(id);
  const sb = (name) => document.querySelector(`[data-sb="${name}"]`);

  /** Build an element. `text` sets textContent; `on…` adds listeners; null/false attributes are skipped. */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
    return el;
  }

  const session = {
    get() {
      try {
        return sessionStorage.getItem(TOKEN_KEY);
      } catch {
        return null;
      }
    },
    set(v) {
      try {
        if (v) sessionStorage.setItem(TOKEN_KEY, v);
        else sessionStorage.removeItem(TOKEN_KEY);
      } catch {}
    },
  };

  /**
   * What the agent is typing in each conversation, and the conversation on screen, kept for this tab
   * (sessionStorage) so that a reload loses neither; a draft goes once sent. Read back with care: anything but
   * {conversationId: text} is ignored.
   */
  const DRAFTS_KEY = 'switchboard.console.drafts';
  const SELECTED_KEY = 'switchboard.console.selected';
  const DRAFTS_KEPT = 50;
  const DRAFT_MAX = 50_000;
  const kept = {
    read(key) {
      try {
        return sessionStorage.getItem(key);
      } catch {
        return null;
      }
    },
    write(key, value) {
      try {
        if (value == null) sessionStorage.removeItem(key);
        else sessionStorage.setItem(key, value);
      } catch {}
    },
    drafts() {
      let parsed;
      try {
        parsed = JSON.parse(kept.read(DRAFTS_KEY) || '{}');
      } catch {
        return new Map();
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return new Map();
      const drafts = Object.entries(parsed).filter(
        ([id, text]) => id.length <= 128 && typeof text === 'string' && text && text.length <= DRAFT_MAX,
      );
      return new Map(drafts.slice(-DRAFTS_KEPT));
    },
    saveDrafts(drafts) {
      const entries = [...drafts].filter(([, text]) => text?.trim()).slice(-DRAFTS_KEPT);
      kept.write(DRAFTS_KEY, entries.length ? JSON.stringify(Object.fromEntries(entries)) : null);
    },
    selected() {
      const id = kept.read(SELECTED_KEY);
      return id && id.length <= 128 ? id : null;
    },
  };

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const x = [...b].map((n) => n.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  function formatTime(ms) {
    if (!ms) return '';
    const d = new Date(ms);
    if (d.toDateString() === new Date().toDateString()) {
      return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    }
    return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
  }

  /** `YYYY-MM-DDTHH:mm` in local time, for datetime-local inputs. */
  function localInputValue(ms) {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
    return d.toISOString().slice(0, 16);
  }

  /** A datetime-local value to epoch ms (local time), or null when empty or invalid. */
  function parseLocal(value) {
    if (!value) return null;
    const ms = new Date(value).getTime();
    return Number.isFinite(ms) ? ms : null;
  }

  // ------------------------------------------------------------------ state

  const S = {
    /** The status this console is setting now (its own change is not announced back to it). */
    settingStatus: null,
    socket: null,
    me: null,
    /** The channels the agent may write to a customer first on (from hello): 'sms', 'email'. */
    writesOn: [],
    /** Whether calls go out here (an agent may phone a conversation's customer). */
    callsOut: false,
    /** conversationId → ConversationView (messages kept sorted and unique by id). */
    views: new Map(),
    selected: null,
    /** The team's saved replies ({name, text}), from hello. */
    savedReplies: [],
    /** The earlier conversation being read in the context card: {viewId, conversation, messages}, or null. */
    transcript: null,
    unread: new Map(),
    /** conversationId → timer while the customer is typing. */
    typing: new Map(),
    /** agentId → {id, name, status}. */
    agents: new Map(),
    /** `${kind}:${conversationId}` → {kind, conversationId, from, note}. */
    banners: new Map(),
    /** Counts the connections made: an offer banner notes the one it was heard on (`onHello` drops stale ones). */
    connection: 0,
    /** Consult invitations the agent dismissed for now. */
    dismissed: new Set(),
    /** conversationId → what the agent was typing in it (kept for the tab: `kept`). */
    drafts: kept.drafts(),
    /** Replies without a confirmed ack: resent with the same clientMessageId. */
    pending: new Map(),
    /** The agent's own typing signal. */
    myTyping: { conversationId: null, on: false, at: 0, timer: 0 },
    /** conversationId → {online, at}: whether a chat visitor is on the page (asked on select, then told). */
    presence: new Map(),
    /** Conversations whose visitor's presence was asked already (once each: events tell the rest). */
    presenceAsked: new Set(),
  };

  const els = {
    me: byId('me'),
    conn: byId('conn'),
    signin: byId('signin'),
    signinToken: byId('signin-token'),
    app: byId('app'),
    error: sb('error'),
    errorText: byId('error-text'),
    notice: byId('notice'),
    banners: byId('banners'),
    list: byId('conversations'),
    listEmpty: byId('list-empty'),
    title: byId('conv-title'),
    meta: byId('conv-meta'),
    messages: sb('messages'),
    typing: sb('typing'),
    work: byId('work'),
    standby: byId('standby'),
    ownerActions: byId('owner-actions'),
    consultantActions: byId('consultant-actions'),
    reply: sb('reply-input'),
    followup: byId('followup'),
    followupWhen: sb('followup-when'),
    context: byId('context'),
  };

  const PANELS = {
    consult: { button: sb('consult'), panel: byId('consult-panel') },
    handoff: { button: sb('handoff'), panel: byId('handoff-panel') },
    promise: { button: sb('promise'), panel: byId('promise-panel') },
    details: { button: sb('details'), panel: byId('details-panel') },
    block: { button: sb('block'), panel: byId('block-panel') },
  };

  // ------------------------------------------------------------------ messages to the agent

  let noticeTimer = 0;
  /** How long what was said to a screen reader stays in the page (`announce`). */
  const ANNOUNCED_FOR = 20_000;
  // The server's refusals name the agent and the conversation by id, for API callers; here they are the agent
  // at the screen and the conversation on it, said in words.
  const REFUSED = /^agent \S+ may not (.+?) conversation \S+: (.+)$/;
  const MISSING = /^conversation \S+ does not exist$/;
  const NO_ROOM = /^agent \S+: no (\w+) capacity left( to accept)?/;
  function plainMessage(message) {
    const refused = REFUSED.exec(message);
    if (refused)
      return refused[2] === 'not its owner'
        ? `You may not ${refused[1]} this conversation: it is not yours.`
        : `You may not ${refused[1]} this conversation: ${refused[2]}.`;
    if (/^agent \S+ was not invited to consult on conversation \S+$/.test(message))
      return 'You are not asked to help on this conversation (any more).';
    const full = NO_ROOM.exec(message);
    if (full)
      return full[2]
        ? `You have no room for another ${full[1]} conversation now. A place is kept for it: accept once you finish one.`
        : `You have no room for another ${full[1]} conversation now.`;
    return MISSING.test(message) ? 'That conversation no longer exists.' : message;
  }
  function showError(error) {
    const e = typeof error === 'string' ? { message: error } : error || {};
    els.errorText.textContent = (e.message && plainMessage(e.message)) || e.code || 'Something went wrong.';
    els.error.hidden = false;
    const input = FIELD_INPUT[e.field] && byId(FIELD_INPUT[e.field]);
    if (input && input.offsetParent !== null) input.focus();
  }
  function clearError() {
    els.error.hidden = true;
    els.errorText.textContent = '';
  }
  function notify(text) {
    clearTimeout(noticeTimer);
    els.notice.textContent = text;
    placeNotice();
    noticeTimer = setTimeout(() => {
      els.notice.textContent = '';
    }, 6000);
  }

  /**
   * The notice floats over the window's bottom-left corner, where the conversation's last buttons are on a laptop's
   * screen (Consult, at 1280×720) or at 200% zoom: over the control that has the focus, it moves to the other
   * corner, so that the agent working by keyboard sees where they are. It never takes a click (console.css).
   */
  function placeNotice() {
    const n = els.notice;
    n.classList.remove('aside');
    const a = document.activeElement;
    if (!n.textContent || !a || a === document.body) return;
    const over = (x, y) => x.left < y.right && x.right > y.left && x.top < y.bottom && x.bottom > y.top;
    if (over(n.getBoundingClientRect(), a.getBoundingClientRect())) n.classList.add('aside');
  }
  document.addEventListener('focusin', placeNotice);

  /**
   * Said once, politely, to a screen reader: a new message, an offer, an invitation. The messages' log is quiet
   * (it is drawn again as conversations change and are switched), so nothing in it is read out twice.
   */
  function announce(text) {
    const region = byId('announce');
    const said = h('p', { text });
    region.append(said);
    while (region.childElementCount > 3) region.firstElementChild.remove();
    // Said, then gone: a screen reader going through the page later does not come upon an offer long answered.
    setTimeout(() => said.remove(), ANNOUNCED_FOR);
  }

  /** What has the focus, and whether it is still there to have it (not removed, not hidden). */
  function shown(el) {
    return !!el?.isConnected && el.getClientRects().length > 0;
  }

  /**
   * The focus was on `was` and fell to the page (what had it was answered, closed or hidden): back on it if it is
   * still there, else on the message box, else on the conversation's title. Focus that went elsewhere stays.
   */
  function refocus(was) {
    if (!was || was === document.body) return;
    const gone = !shown(was);
    const now = document.activeElement;
    if (now && now !== document.body && !(now === was && gone)) return;
    if (!gone) was.focus();
    else if (shown(els.reply)) els.reply.focus();
    else els.title.focus();
  }

  /**
   * Draw `container` again with `render`, the focus kept on the same control: found by its conversation, its
   * data-sb name (else its words) and its place among those alike.
   */
  function keepFocus(container, render) {
    const was = document.activeElement;
    const key = (el) =>
      `${el.closest('[data-conversation-id]')?.dataset.conversationId || ''}|${el.tagName}|${el.dataset.sb || el.textContent}`;
    const alike = (k) =>
      [...container.querySelectorAll('button, a, input, select, textarea')].filter((el) => key(el) === k);
    const k = was && was !== container && container.contains(was) ? key(was) : null;
    const at = k ? alike(k).indexOf(was) : -1;
    render();
    if (k && !was.isConnected) alike(k)[at]?.focus();
  }

  // ------------------------------------------------------------------ socket

  /** Emit with an ack; always resolves to `{ok: true, …}` or `{ok: false, error}`. */
  function call(event, payload) {
    return new Promise((resolve) => {
      const socket = S.socket;
      if (!socket?.connected) {
        resolve({
          ok: false,
          error: { code: 'offline', message: 'Not connected to the server. Try again in a moment.' },
        });
        return;
      }
      socket.timeout(ACK_TIMEOUT).emit(event, payload, (err, res) => {
        if (err)
          resolve({
            ok: false,
            error: { code: 'timeout', message: 'The server did not answer. Try again.' },
          });
        else if (!res || typeof res !== 'object') {
          resolve({
            ok: false,
            error: { code: 'bad_answer', message: 'Unexpected answer from the server.' },
          });
        } else resolve(res);
      });
    });
  }

  /** `call`, showing any error to the agent. */
  async function act(event, payload) {
    const res = await call(event, payload);
    if (res.ok) clearError();
    else showError(res.error);
    return res;
  }

  /** Disable a button while its action runs. */
  async function busy(button, fn) {
    if (button.disabled) return;
    const focused = document.activeElement === button;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      return await fn();
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      if (focused) refocus(button);
    }
  }

  function connect(token) {
    if (typeof window.io !== 'function') {
      showError(
        'Could not load the realtime client from /socket.io/socket.io.min.js. Is the server running?',
      );
      return;
    }
    disconnect();
    clearError();
    els.signin.hidden = true;
    setConn('Connecting…');
    const socket = window.io('/agent', { path: `${BASE}/socket.io`, auth: { token } });
    S.socket = socket;
    S.token = token;

    socket.on('connect', () => {
      S.connection++;
      setConn('Connected', true);
      for (const p of S.pending.values()) deliverReply(p);
    });
    socket.on('disconnect', (reason) => {
      setConn('Connection lost. Reconnecting…');
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.on('connect_error', (err) => {
      if (err?.message === 'unauthorized') {
        signOut(
          'That sign-in link or token was not accepted. Use the link from the server log or ask an admin for a new token.',
        );
      } else {
        setConn('Cannot reach the server. Retrying…');
        // A refusal from the server's middleware is not retried by socket.io itself.
        if (!socket.active) setTimeout(() => S.socket === socket && socket.connect(), 5000);
      }
    });

    socket.on('hello', onHello);
    socket.on('assigned', onAssigned);
    socket.on('message', onMessage);
    socket.on('conversation.updated', onConversationUpdated);
    socket.on('conversation.erased', onConversationErased);
    socket.on('customer.updated', onCustomerUpdated);
    socket.on('typing', onTyping);
    socket.on('presence', (e) => {
      if (!e?.conversationId) return;
      S.presence.set(e.conversationId, { online: !!e.online, at: e.at || null, heard: Date.now() });
      if (e.conversationId === S.selected) renderConversation();
    });
    socket.on('agent', onAgent);
    socket.on('queue', onQueue);
    // The team's saved replies changed (an admin set them): the picker follows.
    socket.on('saved_replies', (p) =>
      renderSavedReplies(Array.isArray(p?.savedReplies) ? p.savedReplies : []),
    );
    socket.on('consult.invite', (e) => addBanner('consult', e));
    socket.on('handoff.offer', (e) => addBanner('handoff', e));
    socket.on('handoff.update', onHandoffUpdate);
    socket.on('promise.reminder', onPromiseReminder);
    socket.on('promise.made', onPromiseMade);
    socket.on('promise.updated', onPromiseUpdated);
    // An extension of the base protocol: a conversation offered to this agent (a ringing call) to accept or decline.
    socket.on('offer', onOffer);
    socket.on('wrapup', onWrapUp);
  }

  function disconnect() {
    if (!S.socket) return;
    S.socket.removeAllListeners();
    S.socket.disconnect();
    S.socket = null;
  }

  function setConn(text, ok) {
    els.conn.textContent = text;
    els.conn.classList.toggle('ok', !!ok);
  }

  function signOut(message) {
    disconnect();
    session.set(null);
    S.me = null;
    S.views.clear();
    S.presence.clear();
    S.presenceAsked.clear();
    S.unread.clear();
    S.banners.clear();
    S.pending.clear();
    S.drafts.clear();
    kept.saveDrafts(S.drafts);
    kept.write(SELECTED_KEY, null);
    S.selected = null;
    els.app.hidden = true;
    els.me.hidden = true;
    els.signin.hidden = false;
    renderBanners();
    updateTitle();
    if (message) showError(message);
    else clearError();
    els.signinToken.value = '';
    els.signinToken.focus();
  }

  // ------------------------------------------------------------------ model helpers

  /** The draft of a conversation set (empty: gone), and kept for the tab. */
  function setDraft(id, text) {
    if (!id) return;
    S.drafts.delete(id);
    if (text?.trim()) S.drafts.set(id, text);
    kept.saveDrafts(S.drafts);
  }

  function lastAt(v) {
    const m = v.messages[v.messages.length - 1];
    return Math.max(m?.at || 0, v.conversation.lastContactAt || 0, v.conversation.createdAt || 0);
  }

  /** What this agent is to a conversation, from the live conversation record. */
  function roleOf(v) {
    const c = v.conversation;
    const me = S.me?.id;
    if (!me) return v.role && v.role !== 'none' ? v.role : null;
    if (c.ownerId === me) return 'owner';
    if (c.consultants?.includes(me)) return 'consultant';
    if (c.cover?.agentId === me) return 'cover';
    if (c.invited?.includes(me)) return 'invited';
    if (c.handoff?.to === me) return 'offered';
    return null;
  }

  /** The customer's name when known: given, or told as a fact (null otherwise). */
  function knownName(v) {
    return v?.customer?.name || v?.customer?.facts?.name?.value || null;
  }

  /** Where a reply on the conversation goes: a call's as a text, none for a caller who withheld their number. */
  function repliesGo(c, ids) {
    if (c.lastChannel !== 'voice') return `replies go out on ${c.lastChannel}`;
    const phone = ids.some((i) => i.channel === 'phone');
    if (!phone && ids.some((i) => i.channel === 'call'))
      return 'the caller withheld their number: no reply can reach them; internal notes are for colleagues';
    return 'replies go out as texts to their phone';
  }

  function customerName(v) {
    const c = v?.customer;
    if (!c) return 'Customer';
    const known = knownName(v);
    if (known) return known;
    const id = c.identities?.find((i) => i.channel === 'phone' || i.channel === 'email');
    if (id) return id.address;
    // As the server names them (channels/team.ts `customerName`): the end of their customer id keeps several
    // apart; a visitor or call id means nothing to anyone.
    const end = String(c.id || '').slice(-4);
    if (c.identities?.some((i) => i.channel === 'call')) return `Hidden number ${end}`;
    return c.identities?.length ? `Website visitor ${end}` : 'Customer';
  }

  function agentName(id) {
    if (!id) return '';
    if (id === S.me?.id) return `${S.me.name} (you)`;
    return S.agents.get(id)?.name || id;
  }

  function isOpen(v) {
    return v.conversation.status === 'assigned' || v.conversation.status === 'queued';
  }

  function insertMessage(v, message) {
    const i = v.messages.findIndex((m) => m.id === message.id);
    if (i >= 0) {
      v.messages[i] = message;
      return false;
    }
    let at = v.messages.length;
    while (at > 0 && (v.messages[at - 1].at || 0) > (message.at || 0)) at--;
    v.messages.splice(at, 0, message);
    return true;
  }

  /** Merge a ConversationView into state; returns [view, number of messages new to us]. */
  function upsertView(view) {
    const id = view.conversation.id;
    let v = S.views.get(id);
    if (!v) {
      v = { id, conversation: view.conversation, customer: view.customer, messages: [] };
      S.views.set(id, v);
    }
    v.conversation = view.conversation;
    if (view.customer) v.customer = view.customer;
    if (view.history) v.history = view.history;
    if (view.promises) v.promises = view.promises;
    if (Array.isArray(view.brokenPromises)) v.broken = view.brokenPromises;
    if (view.role) v.role = view.role;
    if ('wrapUpUntil' in view) setWrapUp(v, view.wrapUpUntil, view.now);
    let added = 0;
    for (const m of view.messages || []) if (insertMessage(v, m)) added++;
    syncBanners(v.conversation, view.ownerName);
    return [v, added];
  }

  /**
   * The owner's after-call work on `v`: up at `until` by the server's clock (`now` there), kept as a time by this
   * browser's clock, which counts down to it (`renderWrapUp`). Null: not in after-call work.
   */
  function setWrapUp(v, until, now) {
    v.wrapUpDue =
      typeof until === 'number' ? Date.now() + (until - (typeof now === 'number' ? now : Date.now())) : null;
  }

  /**
   * "After-call work: 1:45 left" with More time and Done, on the open conversation while its work is on; drawn
   * again as each second of it passes.
   */
  let wrapUpTick = null;
  function renderWrapUp() {
    const v = current();
    const box = sb('wrapup');
    const left = v?.wrapUpDue && roleOf(v) === 'owner' && isOpen(v) ? v.wrapUpDue - Date.now() : 0;
    box.hidden = left <= 0;
    clearTimeout(wrapUpTick);
    wrapUpTick = left > 0 ? setTimeout(renderWrapUp, left % 1000 || 1000) : null;
    if (left <= 0) return;
    const secs = Math.ceil(left / 1000);
    const text = `After-call work: ${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')} left`;
    const shown = sb('wrapup-left');
    if (shown.textContent !== text) shown.textContent = text;
  }

  function onWrapUp({ conversationId, until, now }) {
    const v = S.views.get(conversationId);
    if (!v) return;
    const began = !v.wrapUpDue;
    setWrapUp(v, until, now);
    renderWrapUp();
    // Said once as it begins (the countdown itself is not read out each second).
    if (began && v.wrapUpDue)
      announce(`The call with ${customerName(v)} ended: after-call work until ${formatTime(v.wrapUpDue)}.`);
  }

  /** More time: the full after-call work time again from now (up to the team's limit). */
  async function moreTime() {
    const v = current();
    if (!v) return;
    await busy(sb('wrapup-more'), async () => {
      const res = await act('wrapup.extend', { conversationId: v.id });
      if (!res.ok) return;
      setWrapUp(v, res.wrapUpUntil, res.now);
      renderWrapUp();
      notify(`After-call work until ${formatTime(v.wrapUpDue)}.`);
    });
  }

  /** Keep the invite / hand-off banners in step with the conversation record. */
  function syncBanners(c, ownerName) {
    const me = S.me?.id;
    if (!me) return;
    const consultKey = `consult:${c.id}`;
    const handoffKey = `handoff:${c.id}`;
    if (!c.invited?.includes(me)) S.banners.delete(consultKey);
    else if (!S.banners.has(consultKey) && !S.dismissed.has(consultKey)) {
      S.banners.set(consultKey, {
        kind: 'consult',
        conversationId: c.id,
        from: { id: c.ownerId, name: ownerName || agentName(c.ownerId) },
      });
    }
    if (c.handoff?.to !== me) S.banners.delete(handoffKey);
    else if (!S.banners.has(handoffKey)) {
      S.banners.set(handoffKey, {
        kind: 'handoff',
        conversationId: c.id,
        from: { id: c.handoff.from, name: agentName(c.handoff.from) },
        note: c.handoff.note,
      });
    }
    if (c.offer?.agentId !== me || c.status !== 'queued') S.banners.delete(`offer:${c.id}`);
  }

  function bumpUnread(id, n) {
    if (!n || id === S.selected) return;
    S.unread.set(id, (S.unread.get(id) || 0) + n);
  }

  async function fetchView(conversationId) {
    const res = await call('conversation', { conversationId });
    if (!res.ok || !res.view) return null;
    return upsertView(res.view)[0];
  }

  async function loadAgents() {
    const res = await call('agents', {});
    if (res.ok && Array.isArray(res.agents)) {
      S.agents.clear();
      for (const a of res.agents) S.agents.set(a.id, a);
    }
    return res;
  }

  // ------------------------------------------------------------------ server → agent

  function onHello({ agent, conversations, offers, savedReplies, writesOn, callsOut, stickyWaitSeconds }) {
    S.me = agent;
    S.stickyWaitSeconds =
      stickyWaitSeconds && typeof stickyWaitSeconds === 'object' ? stickyWaitSeconds : null;
    S.callsOut = callsOut === true;
    renderSavedReplies(Array.isArray(savedReplies) ? savedReplies : []);
    renderWrite(Array.isArray(writesOn) ? writesOn : []);
    els.app.hidden = false;
    els.me.hidden = false;
    els.signin.hidden = true;
    const keep = new Set((conversations || []).map((v) => v.conversation.id));
    // (Re)connected: what was heard of visitors' presence may be stale; asked again when shown.
    S.presence.clear();
    S.presenceAsked.clear();
    for (const id of [...S.views.keys()]) {
      if (!keep.has(id) && id !== S.selected) S.views.delete(id);
    }
    for (const view of conversations || []) upsertView(view);
    // What rings for me now (extension): shown as a fresh offer is, after a reload or on another process. An offer
    // heard before this connection and not listed ended while the console was away (one heard since came after the
    // list was read).
    const ringing = Array.isArray(offers) ? offers : [];
    const listed = new Set(ringing.map((v) => `offer:${v?.conversation?.id}`));
    for (const [key, b] of [...S.banners])
      if (b.kind === 'offer' && b.connection !== S.connection && !listed.has(key)) S.banners.delete(key);
    for (const view of ringing) onOffer(view);
    // After a reload: the conversation that was on screen in this tab, with what was being typed in it.
    const before = !S.selected && kept.selected();
    if (before && S.views.has(before)) S.selected = before;
    if (!S.selected || !S.views.has(S.selected)) {
      const open = sortedViews().find((v) => isOpen(v));
      S.selected = open ? open.id : null;
    }
    if (!els.reply.value && S.selected) els.reply.value = S.drafts.get(S.selected) || '';
    renderAll();
    loadAgents().then(() => renderAll());
  }

  // ------------------------------------------------------------------ alerts
  // A new conversation, a ringing offer, or a customer's message while the agent looks elsewhere (another tab or
  // window, another conversation): a short chime and, with the browser's permission, a desktop notification
  // that brings the conversation up. On unless the agent turns them off (kept in this browser).

  const ALERTS_KEY = 'switchboard.console.alerts';
  const stored = (() => {
    try {
      return window.localStorage;
    } catch {
      return null; // storage refused (a private window's setting): alerts stay on for this page
    }
  })();
  const alerts = { on: stored?.getItem(ALERTS_KEY) !== 'off', audio: null };

  /** The browser plays sound only after the page was used: the audio starts on the first click or key. */
  function wakeAudio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    alerts.audio = alerts.audio || new Ctx();
    if (alerts.audio.state === 'suspended') alerts.audio.resume().catch(() => {});
  }
  for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, wakeAudio, { once: true });

  /** Two short soft tones. */
  function chime() {
    const ctx = alerts.audio;
    if (ctx?.state !== 'running') return;
    const start = ctx.currentTime;
    [880, 1320].forEach((frequency, i) => {
      const at = start + i * 0.16;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.16);
    });
  }

  function alertAgent(conversationId, title, body) {
    if (!alerts.on) return;
    const away = document.hidden || !document.hasFocus();
    if (!away && conversationId === S.selected) return;
    chime();
    if (!away || !('Notification' in window) || Notification.permission !== 'granted') return;
    let shown;
    try {
      shown = new Notification(title, { body: String(body || '').slice(0, 140), tag: conversationId });
    } catch {
      return; // a browser that shows notifications only from a service worker: the chime said it
    }
    shown.onclick = () => {
      window.focus();
      if (S.views.has(conversationId)) select(conversationId);
      shown.close();
    };
  }

  // A toggle with a fixed name ("Alerts") and its state in aria-pressed: a screen reader hears the change once.
  // The "on"/"off" beside the name is for the eye only.
  function renderAlerts() {
    const button = sb('alerts');
    sb('alerts-state').textContent = alerts.on ? 'on' : 'off';
    button.setAttribute('aria-pressed', String(alerts.on));
  }

  sb('alerts').addEventListener('click', () => {
    alerts.on = !alerts.on;
    stored?.setItem(ALERTS_KEY, alerts.on ? 'on' : 'off');
    // Turned on: the browser is asked once whether this page may show desktop notifications.
    if (alerts.on && 'Notification' in window && Notification.permission === 'default') {
      Notification.requestPermission().catch(() => {});
    }
    renderAlerts();
  });
  renderAlerts();

  /** What the customer said last in a view, for an alert. */
  function lastSaid(v) {
    const m = [...(v.messages || [])].reverse().find((x) => x.direction === 'in');
    return m ? m.text || (m.attachments?.length ? 'sent a file' : '') : '';
  }

  function onAssigned(view) {
    if (!view?.conversation) return;
    const known = S.views.has(view.conversation.id);
    const [v, added] = upsertView(view);
    S.banners.delete(`handoff:${v.id}`);
    if (!S.selected) S.selected = v.id;
    // One this agent started, writing first: nothing new to them.
    const started =
      v.conversation.ownership?.[0]?.reason === 'outbound' && v.conversation.ownerId === S.me?.id;
    if (started) {
      renderAll();
      return;
    }
    if (!known) {
      bumpUnread(v.id, v.messages.filter((m) => m.direction === 'in').length || 1);
      notify(`New conversation with ${customerName(v)}.`);
      alertAgent(v.id, `New conversation: ${customerName(v)}`, lastSaid(v));
    } else bumpUnread(v.id, added);
    renderAll();
  }

  async function onMessage({ conversationId, message, lastChannel, channels }) {
    if (!message) return;
    let v = S.views.get(conversationId);
    if (!v) {
      v = await fetchView(conversationId);
      if (!v) return;
    }
    // The customer wrote on another channel (an email joining their chat): replies go out there now.
    if (typeof lastChannel === 'string' && Array.isArray(channels))
      v.conversation = { ...v.conversation, lastChannel, channels };
    const isNew = insertMessage(v, message);
    if (isNew && message.author?.id !== S.me?.id && message.direction !== 'out') bumpUnread(v.id, 1);
    // Said once: what someone else wrote in a conversation of mine (the customer, a colleague, Switchboard).
    if (isNew && message.author?.id !== S.me?.id && roleOf(v)) {
      const what = lastLine(message);
      if (v.id === S.selected) announce(`${messageAuthor(v, message)}: ${what}`);
      else if (message.direction === 'in') announce(`New message from ${customerName(v)}: ${what}`);
    }
    if (isNew && message.direction === 'in' && roleOf(v)) {
      alertAgent(v.id, `${customerName(v)} wrote`, message.text || 'sent a file');
    }
    if (message.direction === 'in') setCustomerTyping(conversationId, false);
    // The customer reached out again (a text, a new call): no longer after-call work.
    if (message.direction === 'in') v.wrapUpDue = null;
    renderAll();
  }

  /** New facts about a customer (the visitor filled in the pre-chat form): refresh every card showing them. */
  function onCustomerUpdated({ customer }) {
    if (!customer?.id) return;
    for (const v of S.views.values()) if (v.customer?.id === customer.id) v.customer = customer;
    renderAll();
  }

  async function onConversationUpdated({ conversation }) {
    if (!conversation) return;
    const id = conversation.id;
    // An offer to me that ended (it rang out, the caller hung up, it went to a colleague): its Accept goes, and a
    // screen reader is told, the focus kept on the page if it was on Accept.
    const offer = S.banners.get(`offer:${id}`);
    if (offer && (conversation.offer?.agentId !== S.me?.id || conversation.status !== 'queued')) {
      S.banners.delete(`offer:${id}`);
      if (conversation.ownerId !== S.me?.id) announce(`${offer.customer} is no longer offered to you.`);
      if (!S.views.has(id)) return renderAll();
    }
    let v = S.views.get(id);
    if (v) v.conversation = conversation;
    else {
      const probe = { conversation };
      if (!roleOf(probe)) return;
      v = await fetchView(id);
      if (!v) return;
    }
    syncBanners(conversation);
    // Moved on to a colleague this console does not know yet (new on the team): named once the team is read.
    if (conversation.ownerId && conversation.ownerId !== S.me?.id && !S.agents.has(conversation.ownerId))
      loadAgents().then(() => renderAll());
    if (roleOf(v)) delete v.unsent;
    else keepUnsent(v);
    if (!roleOf(v) && id !== S.selected && !v.unsent) S.views.delete(id);
    renderAll();
  }

  /**
   * The conversation is no longer mine (handed on, moved) while I was writing a reply in it: the reply was not
   * sent, and is kept on it (shown, to copy or pass on) rather than lost with it.
   */
  function keepUnsent(v) {
    if (v.unsent) return;
    const typed = (S.selected === v.id ? els.reply.value : S.drafts.get(v.id) || '').trim();
    const waiting = [...S.pending.values()].find((p) => p.conversationId === v.id && p.text)?.text || '';
    const text = typed || waiting;
    if (text) v.unsent = text;
  }

  /** How a hand-off of a conversation of mine goes, said in words: offered in my stead, declined, accepted. */
  function onHandoffUpdate(e) {
    if (!e?.conversationId || !e.to) return;
    const v = S.views.get(e.conversationId);
    const customer = (v && customerName(v)) || e.customer || 'the customer';
    const to = e.to.name || agentName(e.to.id);
    if (e.to.id && e.to.name) S.agents.set(e.to.id, { ...S.agents.get(e.to.id), ...e.to });
    if (e.action === 'declined') notify(`${to} declined the hand-off of ${customer}: it stays with you.`);
    else if (e.action === 'withdrawn')
      notify(`${e.by || 'Its owner'} took back the hand-off of ${customer}.`);
    else if (e.action === 'offered') {
      const by = e.by ? e.by.charAt(0).toUpperCase() + e.by.slice(1) : 'A team lead';
      notify(`${by} offered ${customer}'s conversation to ${to}. It is yours until they accept.`);
    } else if (e.action === 'accepted') {
      if (v) keepUnsent(v);
      notify(
        `${customer}'s conversation is now ${to}'s.${v?.unsent ? ' Your reply was not sent: it is kept with the conversation.' : ''}`,
      );
      renderAll();
    }
  }

  /** A customer's data was erased at their request: what this console shows of their conversations goes. */
  function onConversationErased({ conversationIds }) {
    if (!Array.isArray(conversationIds)) return;
    let shown = false;
    for (const id of conversationIds) {
      S.views.delete(id);
      if (id === S.selected) shown = true;
    }
    if (shown) {
      S.selected = null;
      notify('That conversation was erased at the customer’s request.');
    }
    renderAll();
  }

  function onTyping({ conversationId, typing }) {
    setCustomerTyping(conversationId, !!typing);
    if (conversationId === S.selected) renderTyping();
  }

  function setCustomerTyping(conversationId, on) {
    clearTimeout(S.typing.get(conversationId));
    S.typing.delete(conversationId);
    if (on) {
      S.typing.set(
        conversationId,
        setTimeout(() => {
          S.typing.delete(conversationId);
          renderTyping();
        }, 15_000),
      );
    }
  }

  /** Whether a promise from the server has what the console shows of it. */
  function isPromise(p) {
    return (
      !!p &&
      typeof p.id === 'string' &&
      typeof p.conversationId === 'string' &&
      typeof p.dueAt === 'number' &&
      typeof p.state === 'string'
    );
  }

  /**
   * One of my promises is due soon: a banner that stays until it is dealt with (Mark kept in it, or dismissed), or
   * until the promise is settled (kept, or broken: then the banner says so), whatever conversation is on screen.
   */
  function onPromiseReminder({ promise } = {}) {
    if (!isPromise(promise) || promise.state !== 'open') return;
    S.banners.set(`promise:${promise.id}`, {
      kind: 'promise',
      conversationId: promise.conversationId,
      promise,
    });
    alertAgent(
      promise.conversationId,
      'A promise of yours is due soon',
      `${formatTime(promise.dueAt)}${promise.text ? `: ${promise.text}` : ''}`,
    );
    renderBanners();
    updateTitle();
  }

  /**
   * A promise in a conversation's list as the server says it is now (added when new to it). A settled one is not
   * made open again by a late word of it (the answer to `promise` after the news that it was kept).
   */
  function putPromise(v, promise) {
    const list = v.promises || [];
    const known = list.find((p) => p.id === promise.id);
    if (!known) v.promises = [...list, promise];
    else if (known.state === 'open' || promise.state !== 'open')
      v.promises = list.map((p) => (p.id === promise.id ? promise : p));
  }

  /**
   * A promise made on a conversation this console shows, wherever it was made (here, another console, Slack,
   * Switchboard itself): listed at once.
   */
  function onPromiseMade({ promise } = {}) {
    if (!isPromise(promise)) return;
    const v = S.views.get(promise.conversationId);
    if (!v) return;
    putPromise(v, promise);
    if (S.selected === v.id) renderContext();
  }

  /**
   * A promise on a conversation this console shows was kept, broken or made void, wherever that happened: the
   * conversation's promises follow (an agent's that broke stays listed, as broken). One of mine: so does its
   * banner: gone once kept, saying it broke otherwise (until dismissed). A promise of mine that broke with no
   * reminder shown gets that banner too.
   */
  function onPromiseUpdated({ promise } = {}) {
    if (!isPromise(promise)) return;
    const v = S.views.get(promise.conversationId);
    if (v) putPromise(v, promise);
    const broke = promise.state === 'broken' && promise.kind === 'agent';
    if (v && broke) v.broken = [...(v.broken || []).filter((p) => p.id !== promise.id), promise];
    const key = `promise:${promise.id}`;
    if (broke && (S.banners.has(key) || promise.agentId === S.me?.id)) {
      S.banners.set(key, { kind: 'promise', conversationId: promise.conversationId, promise });
      alertAgent(promise.conversationId, 'A promise of yours broke', promise.text || '');
    } else if (promise.state !== 'open') S.banners.delete(key);
    renderBanners();
    updateTitle();
    if (S.selected === v?.id) renderContext();
  }

  /**
   * Whether this agent may mark an agent's promise kept, as the router allows it (Router `keepPromise`): the
   * agent who made it, or the conversation's owner now (who took it over: its maker left, or handed it on).
   */
  function canKeep(p, c) {
    const me = S.me?.id;
    return !!me && p.kind === 'agent' && p.state === 'open' && (p.agentId === me || c.ownerId === me);
  }

  async function keepPromise(button, promiseId) {
    await busy(button, async () => {
      const res = await act('promise.keep', { promiseId });
      if (!res.ok) return;
      onPromiseUpdated({ promise: res.promise });
      notify(res.promise.state === 'kept' ? 'Marked kept.' : 'It was already past due: recorded as broken.');
    });
  }

  /** What waits, for everyone: "Nobody waiting" or "3 waiting (chat 2, email 1)". */
  /**
   * What waits, in the header. A screen reader is not read each change (on a busy day, one every 2 seconds over
   * the customers' words): it hears once that customers wait, when they begin to, and only while the agent is
   * not available (an available agent hears each contact offered to them instead).
   */
  let waitingBefore = null;
  function onQueue({ waiting, waitingByChannel } = {}) {
    if (typeof waiting !== 'number') return;
    const parts = Object.entries(waitingByChannel || {})
      .filter(([, n]) => n > 0)
      .map(([channel, n]) => `${CHANNEL_NAMES[channel] || channel} ${n}`);
    const el = sb('queue');
    const text =
      waiting === 0 ? 'Nobody waiting' : `${waiting} waiting${parts.length ? ` (${parts.join(', ')})` : ''}`;
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle('busy', waiting > 0);
    if (waitingBefore === 0 && waiting > 0 && S.me && S.me.status !== 'available')
      announce(`Customers are waiting: ${text}.`);
    waitingBefore = waiting;
  }

  function onAgent({ agent }) {
    if (!agent) return;
    if (agent.id === S.me?.id) {
      const was = S.me.status;
      S.me = { ...S.me, ...agent };
      renderMe();
      // What the page says with no conversation open follows the status.
      if (!S.selected) renderConversation();
      // Set by someone or something else, with why (a team lead, a missed ring): said, not only shown.
      if (agent.status !== was && agent.statusReason && agent.status !== S.settingStatus)
        notify(
          `You are ${STATUS_LABEL[agent.status] || agent.status} now: ${agent.statusReason.replace(/_/g, ' ')}.`,
        );
      // Their skills may have changed: the saved replies offered follow.
      renderSavedReplies();
    } else {
      S.agents.set(agent.id, { ...S.agents.get(agent.id), ...agent });
    }
  }

  /**
   * A conversation ringing me (the `offer` event, or one listed in `hello`): a banner to accept or decline it, up at
   * the offer's `expiresAt` by the server's clock (`now` there), kept as a time by this browser's clock. The chime
   * and notification come once per offer, not again when a reconnect lists it.
   */
  function onOffer(view) {
    const c = view?.conversation;
    if (!c) return;
    const key = `offer:${c.id}`;
    const known = S.banners.get(key)?.at === c.offer?.at;
    const expiresAt = c.offer?.expiresAt;
    S.banners.set(key, {
      kind: 'offer',
      conversationId: c.id,
      at: c.offer?.at,
      connection: S.connection,
      channel: c.offer?.channel || c.lastChannel,
      customer: customerName(view),
      expiresAt:
        typeof expiresAt === 'number'
          ? Date.now() + (expiresAt - (typeof view.now === 'number' ? view.now : Date.now()))
          : undefined,
      // A caller who asked to be called back, and hung up: the agent's phone rings first, then theirs.
      callback: (view.promises || []).some((p) => p.kind === 'callback' && p.state === 'open'),
    });
    if (!known) alertAgent(c.id, `For you: ${customerName(view)}`, lastSaid(view) || 'Take it or pass');
    renderBanners();
    updateTitle();
  }

  async function answerOffer(b, accept, button) {
    await busy(button, async () => {
      const res = await act(accept ? 'offer.accept' : 'offer.decline', { conversationId: b.conversationId });
      S.banners.delete(`offer:${b.conversationId}`);
      if (res.ok && accept) {
        await fetchView(b.conversationId);
        if (S.views.has(b.conversationId)) select(b.conversationId);
      }
      renderAll();
    });
  }

  function addBanner(kind, e) {
    if (!e?.conversationId) return;
    S.banners.set(`${kind}:${e.conversationId}`, { kind, ...e });
    if (e.from?.id && e.from.name) S.agents.set(e.from.id, { ...S.agents.get(e.from.id), ...e.from });
    renderBanners();
    updateTitle();
  }

  // ------------------------------------------------------------------ agent → server

  function current() {
    return S.selected ? S.views.get(S.selected) : null;
  }

  /** 2 minutes, 4 hours, 90 seconds: a policy's wait in words. */
  function span(seconds) {
    const unit = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
    if (seconds % 3600 === 0) return unit(seconds / 3600, 'hour');
    if (seconds % 60 === 0) return unit(seconds / 60, 'minute');
    return unit(seconds, 'second');
  }

  /**
   * Whether the customer waits for a person, as the server decides when its owner is offline (router.ts
   * `#customerWaits`): on a call, waiting for their owner, or they wrote after the last reply a person sent.
   */
  function customerWaits(v) {
    const c = v.conversation;
    if (c.lastChannel === 'voice' || c.waitingForOwnerSince != null) return true;
    for (let i = v.messages.length - 1; i >= 0; i--) {
      const m = v.messages[i];
      if (m.direction === 'in') return true;
      if (m.direction === 'out' && m.author?.type === 'agent') return false;
    }
    return true;
  }

  /**
   * Going offline while holding open conversations: the agent is told first, in the page, what happens to them,
   * and may cancel. Those whose customer waits for a reply go to colleagues after the wait the policy gives (per
   * channel); those they answered last stay theirs until the customer writes again. False when there is nothing
   * to say.
   */
  function askOffline() {
    const me = S.me?.id;
    if (!me || S.me.status === 'offline') return false;
    const held = [...S.views.values()].filter(
      (v) => v.conversation.ownerId === me && v.conversation.status === 'assigned',
    );
    if (held.length === 0) return false;
    const waiting = held.filter(customerWaits);
    const byChannel = new Map();
    for (const v of waiting) {
      const ch = v.conversation.slotChannel || v.conversation.lastChannel;
      byChannel.set(ch, (byChannel.get(ch) || 0) + 1);
    }
    const when = [...byChannel].map(([ch, n]) => {
      const wait = S.stickyWaitSeconds?.[ch];
      const after =
        typeof wait !== 'number' ? 'after a wait' : wait === 0 ? 'at once' : `after ${span(wait)}`;
      return `${byChannel.size > 1 || waiting.length > 1 ? `${n} ${CHANNEL_NAMES[ch] || ch} ` : ''}${after}`.trim();
    });
    const n = held.length;
    const w = waiting.length;
    const answered = n - w;
    // How a sentence names `k` of the `n` held: all of them (one, many), or some (one, many).
    const naming = (k, all, allMany, some, someMany) =>
      k === n ? (n === 1 ? all : allMany) : k === 1 ? some : someMany;
    const parts = [`You hold ${n} open conversation${n === 1 ? '' : 's'}.`];
    if (w > 0) {
      const which = naming(
        w,
        'it waits',
        'they wait',
        'the 1 whose customer waits for a reply waits',
        `the ${w} whose customers wait for a reply wait`,
      );
      parts.push(
        `If you go offline, ${which} for you, then ${w === 1 ? 'goes' : 'go'} to colleagues: ${when.join(', ')}.`,
      );
    }
    if (answered > 0) {
      const which = naming(
        answered,
        'You answered it last: it stays',
        'You answered each of them last: they stay',
        'The 1 you answered last stays',
        `The ${answered} you answered last stay`,
      );
      parts.push(`${which} yours while you are offline, until the customer writes again.`);
    }
    sb('offline-what').textContent = parts.join(' ');
    byId('offline-confirm').hidden = false;
    sb('offline-send').focus();
    return true;
  }

  function closeOffline(refocusButton) {
    byId('offline-confirm').hidden = true;
    if (refocusButton) sb('status-offline').focus();
  }

  async function setStatus(status) {
    S.settingStatus = status;
    const res = await act('status', { status });
    S.settingStatus = null;
    if (res.ok) {
      S.me = { ...S.me, ...(res.agent || {}), status: res.agent?.status || status };
      renderMe();
      if (!S.selected) renderConversation();
    }
  }

  async function sendReply() {
    const v = current();
    const text = els.reply.value.trim();
    if (!v || !text) return;
    let p = [...S.pending.values()].find((x) => x.conversationId === v.id && x.text === text);
    if (!p) {
      p = { clientMessageId: uuid(), conversationId: v.id, text };
      S.pending.set(p.clientMessageId, p);
    }
    await busy(sb('reply'), () => deliverReply(p));
  }

  async function deliverReply(p) {
    if (p.inFlight) return;
    p.inFlight = true;
    const res = await call('reply', {
      conversationId: p.conversationId,
      text: p.text,
      clientMessageId: p.clientMessageId,
      ...(p.files ? { files: p.files } : {}),
    });
    p.inFlight = false;
    if (res.ok) {
      clearError();
      S.pending.delete(p.clientMessageId);
      const v = S.views.get(p.conversationId);
      if (v && res.message) insertMessage(v, res.message);
      if (S.selected === p.conversationId && els.reply.value.trim() === p.text) {
        els.reply.value = '';
        setDraft(p.conversationId, '');
        myTyping(false);
      } else if (S.drafts.get(p.conversationId)?.trim() === p.text) setDraft(p.conversationId, '');
      renderAll();
      return;
    }
    const code = res.error?.code;
    if (code === 'offline') {
      showError('Not connected. Your reply stays in the box and is sent when the connection is back.');
    } else {
      // No answer, or the store away (it may have stored it after all): the same text sent again keeps its id.
      if (code !== 'timeout' && code !== 'store_unavailable') S.pending.delete(p.clientMessageId);
      showError(res.error);
    }
  }

  /** Send a file to the customer: uploaded (POST /chat/files with this console's token), then a reply of its own. */
  async function sendFile(file) {
    const v = current();
    if (!v || !file) return;
    await busy(sb('attach'), async () => {
      let answer;
      try {
        const res = await fetch(`${BASE}/chat/files`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${S.token}`,
            'Content-Type': file.type || 'application/octet-stream',
            'X-File-Name': encodeURIComponent(file.name),
          },
          body: file,
        });
        answer = await res.json().catch(() => ({}));
        if (!res.ok) {
          showError({
            message: `${file.name} was not sent: ${answer?.error?.message || `error ${res.status}`}.`,
          });
          return;
        }
      } catch {
        showError({ message: `${file.name} was not sent: the server could not be reached. Try again.` });
        return;
      }
      const p = { clientMessageId: uuid(), conversationId: v.id, text: '', files: [answer.file.upload] };
      S.pending.set(p.clientMessageId, p);
      await deliverReply(p);
    });
  }

  async function sendNote() {
    const v = current();
    const text = els.reply.value.trim();
    if (!v || !text) return;
    await busy(sb('note'), async () => {
      const res = await act('note', { conversationId: v.id, text });
      if (!res.ok) return;
      if (res.message) insertMessage(v, res.message);
      if (els.reply.value.trim() === text) {
        els.reply.value = '';
        setDraft(v.id, '');
      }
      myTyping(false);
      renderAll();
    });
  }

  /** Tell the customer the agent is typing: throttled, and `false` after 2 s idle. */
  function myTyping(on) {
    const t = S.myTyping;
    clearTimeout(t.timer);
    const conversationId = S.selected;
    if (t.on && t.conversationId !== conversationId) {
      call('typing', { conversationId: t.conversationId, typing: false });
      t.on = false;
    }
    if (!conversationId) return;
    if (on) t.timer = setTimeout(() => myTyping(false), TYPING_IDLE);
    const now = Date.now();
    if (on === t.on && !(on && now - t.at > 4000)) return;
    t.on = on;
    t.at = now;
    t.conversationId = conversationId;
    call('typing', { conversationId, typing: on });
  }

  /** Phone the customer: the agent's own phone or browser rings, then Switchboard dials the customer from it. */
  async function callThem() {
    const v = current();
    if (!v) return;
    await busy(sb('call'), async () => {
      const res = await act('call', { conversationId: v.id });
      if (res.ok) notify(`Your phone rings now: pick it up and Switchboard dials the customer at ${res.to}.`);
    });
  }

  async function resolve() {
    const v = current();
    if (!v) return;
    const payload = { conversationId: v.id };
    const choice = followupChoice(els.followupWhen.value);
    if (choice) payload.followUpAt = choice.at;
    else if (els.followupWhen.value === 'other' && els.followup.value) {
      const at = parseLocal(els.followup.value);
      if (!at || at <= Date.now()) {
        showError({
          message: 'Pick a follow-up time in the future, or leave it empty.',
          field: 'followUpAt',
        });
        return;
      }
      payload.followUpAt = at;
    }
    await busy(sb('resolve'), async () => {
      const res = await act('resolve', payload);
      if (!res.ok) return;
      if (res.conversation) v.conversation = res.conversation;
      els.followup.value = '';
      els.followupWhen.value = '';
      els.followup.hidden = true;
      notify(payload.followUpAt ? `Resolved. Follow-up at ${formatTime(payload.followUpAt)}.` : 'Resolved.');
      renderAll();
      // Promises settle on resolution: show the fresh state.
      if (await fetchView(v.id)) renderAll();
    });
  }

  /**
   * The usual follow-up times, as Slack offers them, in the agent's own time zone (as the date and time field
   * is): tomorrow at 09:00, in 3 days (at this time of day), next Monday at 09:00. Null for none or another time.
   */
  function followupChoice(value) {
    const now = new Date();
    const morning = (days) =>
      new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, 9, 0).getTime();
    if (value === 'tomorrow') return { label: 'Tomorrow morning', at: morning(1) };
    if (value === '3days') return { label: 'In 3 days', at: now.getTime() + 3 * 24 * 3600_000 };
    if (value === 'week') return { label: 'Next week', at: morning((8 - now.getDay()) % 7 || 7) };
    return null;
  }

  // The follow-up: the usual times in one list (one Tab stop), the date and time field (six) only for another
  // time. Each choice says its day and time, written again as the list gets the focus (a console left open
  // overnight).
  function followupChoices() {
    for (const option of els.followupWhen.options) {
      const choice = followupChoice(option.value);
      if (choice) option.textContent = `${choice.label} (${formatTime(choice.at)})`;
    }
  }
  followupChoices();
  els.followupWhen.addEventListener('focus', followupChoices);
  els.followupWhen.addEventListener('change', () => {
    els.followup.hidden = els.followupWhen.value !== 'other';
  });

  async function openPicker(kind) {
    const select = sb(`${kind}-pick`);
    const v = current();
    const res = await loadAgents();
    if (!res.ok) showError(res.error);
    const skip = new Set([S.me?.id]);
    if (kind === 'consult' && v)
      for (const id of [...v.conversation.consultants, ...v.conversation.invited]) skip.add(id);
    const colleagues = [...S.agents.values()].filter((a) => !skip.has(a.id));
    const chosen = select.value;
    const groups = ['available', 'away', 'offline']
      .map((status) => {
        const list = colleagues.filter((a) => (a.status || 'offline') === status);
        if (!list.length) return null;
        // An offline colleague cannot take a hand-off (the server refuses it): shown, not offered.
        const closed = kind === 'handoff' && status === 'offline';
        return h(
          'optgroup',
          { label: closed ? `${STATUS_LABEL[status]} (cannot take a hand-off)` : STATUS_LABEL[status] },
          list.map((a) => {
            // A colleague with no place free on its channel cannot accept until one frees (the next one they free
            // is kept for the hand-off): said beside their name.
            const ch = v && (v.conversation.slotChannel || v.conversation.lastChannel);
            const full = kind === 'handoff' && !closed && ch && a.room && a.room[ch] === 0;
            const text = full
              ? `${a.name} (no ${ch} place free now: the next one they free is kept for it)`
              : a.name;
            return h('option', { value: a.id, text, ...(closed ? { disabled: true } : {}) });
          }),
        );
      })
      .filter(Boolean);
    select.replaceChildren(
      h('option', { value: '', text: colleagues.length ? 'Choose a colleague…' : 'No colleagues found' }),
      ...groups,
    );
    if (chosen && colleagues.some((a) => a.id === chosen)) select.value = chosen;
  }

  function togglePanel(kind, force) {
    for (const [k, p] of Object.entries(PANELS)) {
      const open = k === kind ? (force ?? p.panel.hidden) : false;
      p.panel.hidden = !open;
      p.button.setAttribute('aria-expanded', String(open));
      if (open) {
        if (k === 'promise') {
          const due = byId('promise-due');
          due.min = localInputValue(Date.now());
          if (!due.value) due.value = localInputValue(Date.now() + 60 * 60_000);
          byId('promise-text').focus();
        } else if (k === 'block') {
          byId('block-reason').focus();
        } else if (k === 'details') {
          byId('details-name').focus();
        } else {
          openPicker(k);
          sb(`${k}-pick`).focus();
        }
        // The whole form in sight, its button too, when the window is short (the work area scrolls).
        p.panel.scrollIntoView({ block: 'nearest' });
      }
    }
  }

  async function consult(e) {
    e.preventDefault();
    const v = current();
    const agentId = sb('consult-pick').value;
    if (!v) return;
    if (!agentId) return showError({ message: 'Choose a colleague to consult.', field: 'agentId' });
    await busy(sb('consult-send'), async () => {
      const res = await act('consult', { conversationId: v.id, agentId });
      if (!res.ok) return;
      if (res.conversation) v.conversation = res.conversation;
      notify(`${agentName(agentId)} is invited to consult. You stay the owner.`);
      togglePanel('consult', false);
      PANELS.consult.button.focus();
      renderAll();
    });
  }

  async function handoff(e) {
    e.preventDefault();
    const v = current();
    const toAgentId = sb('handoff-pick').value;
    const note = sb('handoff-note').value.trim();
    if (!v) return;
    if (!toAgentId) return showError({ message: 'Choose who to hand off to.', field: 'toAgentId' });
    if (!note)
      return showError({ message: 'Write a note so your colleague need not ask again.', field: 'note' });
    await busy(sb('handoff-send'), async () => {
      const res = await act('handoff', { conversationId: v.id, toAgentId, note });
      if (!res.ok) return;
      if (res.conversation) v.conversation = res.conversation;
      sb('handoff-note').value = '';
      notify(`Hand-off offered to ${agentName(toAgentId)}. You stay the owner until they accept.`);
      togglePanel('handoff', false);
      PANELS.handoff.button.focus();
      renderAll();
    });
  }

  // ------------------------------------------------------------------ writing to a customer first

  const WRITE_BY = {
    sms: { option: 'Text message', to: 'To (phone number)', placeholder: '+1 415 555 0100' },
    email: { option: 'Email', to: 'To (email address)', placeholder: 'name@example.com' },
  };

  /** The channels the agent may write first on (from `hello`): none, no button. */
  function renderWrite(channels) {
    const usable = channels.filter((c) => WRITE_BY[c]);
    S.writesOn = usable;
    const select = sb('write-channel');
    const chosen = select.value;
    select.replaceChildren(...usable.map((c) => h('option', { value: c, text: WRITE_BY[c].option })));
    if (usable.includes(chosen)) select.value = chosen;
    sb('write').hidden = usable.length === 0;
    if (usable.length === 0) toggleWrite(false);
    renderWriteChannel();
  }

  function renderWriteChannel() {
    const by = WRITE_BY[sb('write-channel').value];
    if (!by) return;
    sb('write-to-label').textContent = by.to;
    sb('write-to').placeholder = by.placeholder;
    const email = sb('write-channel').value === 'email';
    sb('write-subject').hidden = !email;
    sb('write-subject-label').hidden = !email;
  }

  function toggleWrite(force) {
    const panel = byId('write-panel');
    const open = force ?? panel.hidden;
    panel.hidden = !open;
    sb('write').setAttribute('aria-expanded', String(open));
    if (open) sb('write-to').focus();
  }

  /** The form, ready to write to this customer again (from the context card of a closed conversation). */
  function writeAgain(channel, address) {
    sb('write-channel').value = channel;
    renderWriteChannel();
    sb('write-to').value = address;
    toggleWrite(true);
    sb('write-text').focus();
  }

  /** A retry of the same message (a lost ack) is the same message: its id holds until the form is sent. */
  let writeId = uuid();

  async function writeFirst(e) {
    e.preventDefault();
    const channel = sb('write-channel').value;
    const to = sb('write-to').value.trim();
    const text = sb('write-text').value;
    const subject = sb('write-subject').value.trim();
    const focusOn = { to: 'write-to', text: 'write-text', subject: 'write-subject' };
    if (!to) {
      showError('Give the number or address to write to.');
      return sb('write-to').focus();
    }
    if (!text.trim()) {
      showError('Write the message.');
      return sb('write-text').focus();
    }
    await busy(sb('write-send'), async () => {
      const payload = { channel, to, text, clientMessageId: writeId };
      if (channel === 'email' && subject) payload.subject = subject;
      const res = await call('conversation.start', payload);
      if (!res.ok) {
        showError({ message: res.error?.message || res.error?.code });
        const field = focusOn[res.error?.field];
        if (field) sb(field).focus();
        return;
      }
      clearError();
      writeId = uuid();
      sb('write-to').value = '';
      sb('write-subject').value = '';
      sb('write-text').value = '';
      toggleWrite(false);
      if (!S.views.has(res.conversationId)) await fetchView(res.conversationId);
      S.selected = res.conversationId;
      notify(
        res.duplicate ? 'Already sent.' : 'Sent. The conversation is yours; their answer comes back to it.',
      );
      renderAll();
    });
  }

  async function blockCustomer(e) {
    e.preventDefault();
    const v = current();
    if (!v) return;
    const reason = byId('block-reason').value.trim();
    await busy(sb('block-send'), async () => {
      const res = await act('block', { conversationId: v.id, reason });
      if (!res.ok) return;
      byId('block-reason').value = '';
      notify('Customer blocked. Their open conversations are closed.');
      togglePanel('block', false);
      if (await fetchView(v.id)) renderAll();
    });
  }

  /** The owner takes back their hand-off offer: the conversation stays theirs, to offer to someone else. */
  async function withdrawHandoff(button, conversationId) {
    await busy(button, async () => {
      const res = await act('handoff.withdraw', { conversationId });
      if (!res.ok) return;
      notify('Hand-off taken back: the conversation stays yours.');
      if (await fetchView(conversationId)) renderAll();
    });
  }

  /** What the customer told the agent (name, email, phone): kept on the customer, nobody asks again. */
  async function saveDetails(e) {
    e.preventDefault();
    const v = current();
    if (!v) return;
    const fields = ['name', 'email', 'phone'];
    const given = {};
    for (const f of fields) {
      const value = byId(`details-${f}`).value.trim();
      if (value) given[f] = value;
    }
    if (Object.keys(given).length === 0)
      return showError({ message: 'Fill in a name, an email address or a phone number.', field: 'name' });
    await busy(sb('details-send'), async () => {
      const res = await act('customer.details', { conversationId: v.id, ...given });
      if (!res.ok) return;
      for (const f of fields) byId(`details-${f}`).value = '';
      togglePanel('details', false);
      PANELS.details.button.focus();
      if (res.customer) v.customer = res.customer;
      const taken = (res.conflicts || []).map(
        (c) =>
          `${c.address} is also another customer's${c.name ? ` (${c.name})` : ''}: it is not linked here; an admin can merge the two if they are the same person.`,
      );
      notify(['Details saved.', ...taken].join(' '));
      renderAll();
    });
  }

  async function makePromise(e) {
    e.preventDefault();
    const v = current();
    if (!v) return;
    const dueAt = parseLocal(byId('promise-due').value);
    const text = byId('promise-text').value.trim();
    if (!dueAt || dueAt <= Date.now())
      return showError({ message: 'Pick a due time in the future.', field: 'dueAt' });
    if (!text) return showError({ message: 'Say what you promised.' });
    await busy(sb('promise-send'), async () => {
      const res = await act('promise', { conversationId: v.id, dueAt, text });
      if (!res.ok) return;
      byId('promise-text').value = '';
      byId('promise-due').value = '';
      notify(`Promise saved, due ${formatTime(dueAt)}.`);
      togglePanel('promise', false);
      PANELS.promise.button.focus();
      if (res.promise) putPromise(v, res.promise);
      else await fetchView(v.id);
      renderAll();
    });
  }

  async function leaveConsult() {
    const v = current();
    if (!v) return;
    await busy(sb('consult-leave'), async () => {
      const res = await act('consult.leave', { conversationId: v.id });
      if (!res.ok) return;
      if (res.conversation) v.conversation = res.conversation;
      notify('You left the conversation.');
      S.views.delete(v.id);
      select(null);
    });
  }

  async function viewInvite(b) {
    const v = S.views.get(b.conversationId) || (await fetchView(b.conversationId));
    if (!v) return showError('Could not load that conversation.');
    select(v.id);
  }

  async function joinConsult(b, button) {
    await busy(button, async () => {
      const res = await act('consult.join', { conversationId: b.conversationId });
      if (!res.ok) return;
      S.banners.delete(`consult:${b.conversationId}`);
      if (res.view) upsertView(res.view);
      else await fetchView(b.conversationId);
      if (S.views.has(b.conversationId)) select(b.conversationId);
      renderAll();
    });
  }

  async function answerHandoff(b, accept, button) {
    await busy(button, async () => {
      const res = await act(accept ? 'handoff.accept' : 'handoff.decline', {
        conversationId: b.conversationId,
      });
      if (!res.ok) return;
      S.banners.delete(`handoff:${b.conversationId}`);
      if (accept) {
        if (res.view) upsertView(res.view);
        else await fetchView(b.conversationId);
        if (S.views.has(b.conversationId)) select(b.conversationId);
        notify('You own this conversation now.');
      } else {
        const v = S.views.get(b.conversationId);
        if (v && !roleOf(v)) {
          S.views.delete(v.id);
          if (S.selected === v.id) S.selected = null;
        }
        notify(`Declined. ${b.from?.name || 'Your colleague'} stays the owner.`);
      }
      renderAll();
    });
  }

  function select(id) {
    // An invitation dismissed from its banner comes back when its conversation is opened: Join is there.
    const invited = id && S.views.get(id);
    if (invited && S.dismissed.delete(`consult:${id}`)) syncBanners(invited.conversation, invited.ownerName);
    if (S.selected === id) return renderAll();
    if (S.selected) setDraft(S.selected, els.reply.value);
    myTyping(false);
    S.selected = id;
    S.transcript = null;
    if (id) S.unread.delete(id);
    els.reply.value = (id && S.drafts.get(id)) || '';
    togglePanel(null);
    renderAll(true);
  }

  /**
   * Whether the visitor of a chat conversation is on the page: asked when it is opened, then told by events, and
   * asked `again` now and then for the open one (a visitor whose widget was on a process that died never "left").
   */
  async function askPresence(id, again = false) {
    if (!id || (!again && S.presenceAsked.has(id)) || S.views.get(id)?.conversation.lastChannel !== 'chat')
      return;
    S.presenceAsked.add(id);
    const asked = Date.now();
    const res = await call('presence', { conversationId: id });
    if (!res.ok || typeof res.online !== 'boolean') return;
    // An event that came meanwhile is newer than this answer.
    const known = S.presence.get(id);
    if (known && (known.heard ?? 0) >= asked) return;
    if (known && known.online === res.online) return;
    S.presence.set(id, { online: res.online, at: null, heard: asked });
    if (id === S.selected) renderConversation();
  }

  // ------------------------------------------------------------------ rendering

  function sortedViews() {
    return [...S.views.values()]
      .filter((v) => roleOf(v) || v.id === S.selected || v.unsent)
      .sort((a, b) => Number(isOpen(b)) - Number(isOpen(a)) || lastAt(b) - lastAt(a));
  }

  function renderAll(scrollToEnd) {
    const was = document.activeElement;
    kept.write(SELECTED_KEY, S.selected);
    renderMe();
    renderList();
    renderConversation(scrollToEnd);
    renderContext();
    renderBanners();
    updateTitle();
    refocus(was);
  }

  function renderMe() {
    if (!S.me) return;
    sb('agent-name').textContent = S.me.name || '';
    // A team lead's link opens the team's live view too (the token rides in the fragment, never sent).
    const team = sb('team-link');
    team.hidden = !S.me.lead;
    team.href = S.me.lead ? `${BASE}/team#token=${encodeURIComponent(S.token)}` : `${BASE}/team`;
    for (const s of ['available', 'away', 'offline']) {
      sb(`status-${s}`).setAttribute('aria-pressed', String(S.me.status === s));
    }
  }

  function renderList() {
    const focused = document.activeElement?.closest?.('[data-sb="conversation-item"]')?.dataset
      .conversationId;
    const items = sortedViews().map((v) => {
      const role = roleOf(v);
      const unread = S.unread.get(v.id) || 0;
      // What a person wrote last (the customer, or an agent): Switchboard's own lines (a wait told, a survey's
      // thanks) would hide it.
      const last =
        v.messages.findLast((m) => m.author?.type !== 'system') || v.messages[v.messages.length - 1];
      return h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: `item${isOpen(v) ? '' : ' closed'}`,
            'data-sb': 'conversation-item',
            'data-conversation-id': v.id,
            'aria-current': v.id === S.selected ? 'true' : null,
            onclick: () => select(v.id),
          },
          h(
            'span',
            { class: 'item-top' },
            h('span', { class: 'item-name', dir: 'auto', text: customerName(v) }),
            unread
              ? h('span', {
                  class: 'badge',
                  'data-sb': 'unread',
                  text: String(unread),
                  'aria-label': `${unread} unread`,
                })
              : null,
          ),
          h(
            'span',
            { class: 'item-meta' },
            [
              v.conversation.lastChannel,
              CONV_STATUS[v.conversation.status],
              role !== 'owner' && ROLE_LABEL[role],
              // One that moved on from me, still on screen: whose it is now.
              !role &&
                v.conversation.status === 'assigned' &&
                v.conversation.ownerId &&
                `${agentName(v.conversation.ownerId)}'s now`,
            ]
              .filter(Boolean)
              .join(' · '),
            // The latest answer has not reached the customer (failed, retrying or given up): seen from the list.
            notDelivered(v)
              ? h('span', { class: 'undelivered', 'data-sb': 'undelivered', text: ' · Not delivered' })
              : null,
          ),
          last ? h('span', { class: 'item-last', dir: 'auto', text: lastLine(last) }) : null,
        ),
      );
    });
    els.list.replaceChildren(...items);
    els.listEmpty.hidden = items.length > 0;
    if (focused) els.list.querySelector(`[data-conversation-id="${CSS.escape(focused)}"]`)?.focus();
  }

  /** Where a conversation that is no longer mine is now: whose, waiting for a colleague, or closed. */
  function whereNow(c) {
    if (c.status === 'assigned' && c.ownerId) return `it is ${agentName(c.ownerId)}'s now`;
    if (c.status === 'queued') return 'it waits for a colleague';
    return `it is ${(CONV_STATUS[c.status] || c.status).toLowerCase()}`;
  }

  /** Whether the conversation's latest message to the customer failed to go (it shows why, inside). */
  function notDelivered(v) {
    const out = v.messages.findLast((m) => m.direction === 'out');
    return out?.delivery?.state === 'failed';
  }

  /** Who wrote a message, as its header says. */
  function messageAuthor(v, m) {
    const internal = m.direction === 'internal';
    return internal
      ? m.author?.type === 'system'
        ? 'Internal note · Switchboard'
        : `Internal note · ${m.author?.name || agentName(m.author?.id) || 'agent'}`
      : m.author?.type === 'customer'
        ? customerName(v)
        : m.author?.type === 'system'
          ? 'Automatic message'
          : m.author?.name || agentName(m.author?.id) || 'Agent';
  }

  function messageElement(v, m) {
    const who = messageAuthor(v, m);
    const meta = h(
      'div',
      { class: 'msg-meta' },
      h('span', { class: 'who', dir: 'auto', text: who }),
      h('time', { datetime: m.at ? new Date(m.at).toISOString() : null, text: formatTime(m.at) }),
      m.channel ? h('span', { class: 'channel', text: m.channel }) : null,
      // An email as the customer sent it, before its quoted history and signature were left out: a new tab.
      m.original && /^https?:\/\//i.test(m.original)
        ? h('a', {
            class: 'original',
            href: m.original,
            target: '_blank',
            rel: 'noopener noreferrer',
            'data-sb': 'original',
            // Each its own name: a screen reader's list of links tells one mail from another.
            'aria-label': `Show original: ${who}, ${formatTime(m.at)}`,
            text: 'Show original',
          })
        : m.originalNotKept === 'too_large'
          ? h('span', {
              class: 'original missing',
              'data-sb': 'original-not-kept',
              text: 'No original: too large to keep',
            })
          : null,
    );
    if (m.direction === 'out' && m.delivery) {
      const state = m.delivery.state;
      meta.append(
        h('span', {
          class: `delivery ${state}`,
          'data-sb': 'delivery',
          'data-state': state,
          text:
            state === 'failed' && m.delivery.reason
              ? `${DELIVERY[state]}: ${m.delivery.reason}`
              : DELIVERY[state] || state,
        }),
      );
    }
    return h(
      'div',
      {
        class: `msg ${m.direction} ${m.author?.type || ''}`,
        'data-sb': 'message',
        'data-direction': m.direction,
      },
      meta,
      m.subject ? h('div', { class: 'msg-subject', dir: 'auto', text: m.subject }) : null,
      h('div', { class: 'msg-text', dir: 'auto', text: m.text }),
      attachmentsElement(m),
    );
  }

  /** A message in one line of the list: its text, else the files it brought. */
  function lastLine(m) {
    if ((m.text || '').trim()) return m.text;
    const files = (m.attachments || []).map((a) => a.name);
    return files.length > 0 ? `File: ${files.join(', ')}` : '';
  }

  /** What came with a message (an email's files, a text's media): name, type and size, a link when it has one. */
  function attachmentsElement(m) {
    // Media whose link the text already shows (a text's media lines) are not listed twice.
    const listed = (m.attachments || []).filter((a) => !(a.url && (m.text || '').includes(a.url)));
    if (listed.length === 0) return null;
    return h(
      'ul',
      { class: 'msg-attachments', 'data-sb': 'attachments' },
      listed.map((a) => {
        const label = `${a.name} (${[a.type, a.size ? byteSize(a.size) : null].filter(Boolean).join(', ')})`;
        const link = a.url && /^https?:\/\//i.test(a.url);
        // A picture kept by Switchboard (a visitor's photo, an emailed one) shows beside its name. The link is
        // named by its label: the picture has no words of its own (alt=""), or the name would be said twice.
        const thumb =
          link &&
          a.url.startsWith(`${location.origin}/`) &&
          /^image\/(png|jpeg|gif|webp)$/i.test(a.type || '')
            ? h('img', { class: 'msg-thumb', src: a.url, alt: '', loading: 'lazy' })
            : null;
        return h(
          'li',
          { 'data-sb': 'attachment' },
          link ? h('a', { href: a.url, target: '_blank', rel: 'noopener noreferrer' }, label, thumb) : label,
        );
      }),
    );
  }

  function byteSize(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
    return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  }

  function renderConversation(scrollToEnd) {
    const v = current();
    const box = els.messages;
    const stick = scrollToEnd || atEnd();
    if (!v) renderUnsent(null, null);
    if (!v) {
      els.title.textContent = 'No conversation selected';
      els.meta.textContent = S.views.size ? 'Pick a conversation on the left.' : '';
      reconcile(box, []);
      els.work.hidden = true;
      els.standby.textContent =
        S.me?.status === 'available'
          ? 'You are available: new conversations are assigned to you as they come in.'
          : 'You are not available: set your status to Available to receive conversations.';
      renderTyping();
      return;
    }
    const c = v.conversation;
    const role = roleOf(v);
    els.title.textContent = customerName(v);
    const bits = [CONV_STATUS[c.status] || c.status, `via ${(c.channels || [c.lastChannel]).join(', ')}`];
    if (c.ownerId && role !== 'owner') bits.push(`owner ${agentName(c.ownerId)}`);
    const others = (c.consultants || []).filter((id) => id !== S.me?.id);
    if (others.length) bits.push(`consulting: ${others.map(agentName).join(', ')}`);
    if (role && role !== 'owner') bits.push(ROLE_LABEL[role]);
    if (!S.presence.has(v.id)) askPresence(v.id);
    const here = c.lastChannel === 'chat' ? S.presence.get(v.id) : null;
    if (here)
      bits.push(
        here.online
          ? 'visitor on the page'
          : `visitor left the page${here.at ? ` at ${formatTime(here.at)}` : ''}`,
      );
    els.meta.textContent = bits.join(' · ');

    reconcile(
      box,
      v.messages.length
        ? v.messages.map((m) => messageElement(v, m))
        : [h('p', { class: 'empty', text: 'No messages yet.' })],
    );

    // Only an open conversation is written to (the server refuses the rest): a resolved one keeps its history
    // here, and the customer card offers to write to them afresh.
    const canWrite =
      (role === 'owner' || role === 'consultant' || role === 'cover') && c.status === 'assigned';
    els.work.hidden = !canWrite;
    // The owner or the colleague covering may phone a customer who has a number (their own phone rings first).
    const cu = v.customer || { facts: {}, identities: [] };
    const hasPhone = (cu.identities || []).some((i) => i.channel === 'phone') || !!cu.facts?.phone;
    sb('call').hidden = !(S.callsOut && canWrite && (role === 'owner' || role === 'cover') && hasPhone);
    // A caller who withheld their number cannot be blocked: their next call is someone new.
    const ids = cu.identities || [];
    sb('block').hidden = ids.length > 0 && ids.every((i) => i.channel === 'call');
    els.ownerActions.hidden = role !== 'owner' || !isOpen(v);
    renderWrapUp();
    els.consultantActions.hidden = role !== 'consultant';
    let standby = '';
    if (role === 'invited') standby = 'You are invited to consult: Join in the banner above to write here.';
    else if (role === 'offered')
      standby = 'This conversation is offered to you. Accept or decline from the banner above.';
    else if (!role) standby = `You no longer work on this conversation: ${whereNow(c)}.`;
    else if (!isOpen(v)) standby = `This conversation is ${CONV_STATUS[c.status].toLowerCase()}.`;
    els.standby.textContent = standby;
    renderUnsent(v, role);
    renderTyping();
    // Last, once what shows under the messages is drawn (their box is as tall as it gets).
    if (stick) showNewest();
  }

  /** A reply that was not sent because the conversation left me: kept in sight, to copy or pass on. */
  function renderUnsent(v, role) {
    const box = sb('unsent');
    const text = v && !role ? v.unsent : null;
    box.hidden = !text;
    if (!text) return;
    sb('unsent-text').textContent =
      'Your reply was not sent: the conversation is no longer yours. What you wrote is kept here to copy or pass on.';
    const area = sb('unsent-reply');
    if (area.value !== text) area.value = text;
  }

  /** Whether the messages were at their end when last scrolled (by the agent, or to show the newest). */
  let pinned = true;
  function showNewest() {
    els.messages.scrollTop = els.messages.scrollHeight;
    pinned = true;
  }

  /** Whether the messages are scrolled to (nearly) their end. */
  function atEnd() {
    const box = els.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  }

  /**
   * Make `box`'s children the `wanted` elements, keeping each one already there that looks the same (the
   * message a link in it has the focus of, or a screen reader is reading): only what changed is drawn again.
   */
  function reconcile(box, wanted) {
    const had = new Map();
    for (const el of box.children) had.set(el.outerHTML, [...(had.get(el.outerHTML) || []), el]);
    const next = wanted.map((el) => had.get(el.outerHTML)?.shift() || el);
    for (const left of had.values()) for (const el of left) el.remove();
    let at = box.firstElementChild;
    for (const el of next) {
      if (el === at) at = at.nextElementSibling;
      else box.insertBefore(el, at);
    }
  }

  function renderTyping() {
    const on = S.selected && S.typing.has(S.selected);
    els.typing.hidden = !on;
    els.typing.textContent = on ? `${customerName(current())} is typing…` : '';
  }

  /** The team's saved replies, by name, in the picker beside Reply (hidden when there are none). */
  /**
   * The team's saved replies (all of them, as the server sends them), and the picker with those for me: for
   * everyone, and for a skill of mine (shared/model.ts `savedRepliesFor`).
   */
  function renderSavedReplies(replies) {
    if (replies) S.allSavedReplies = replies;
    const skills = S.me?.skills || {};
    const mine = (S.allSavedReplies || []).filter(
      (r) => !Array.isArray(r.skills) || r.skills.some((skill) => skills[skill] !== undefined),
    );
    const picker = sb('saved-replies');
    S.savedReplies = mine;
    picker.replaceChildren(
      h('option', { value: '', text: 'Saved reply…' }),
      ...mine.map((r, i) => h('option', { value: String(i), text: r.name })),
    );
    picker.hidden = mine.length === 0;
  }

  /**
   * A saved reply's text for this conversation, as shared/model.ts `fillSavedReply` fills it: {name} the
   * customer's first name ("there" when not known), {agent} yours.
   */
  function fillSavedReply(text, v) {
    const first = (name) => (name || '').trim().split(/\s+/)[0] || null;
    const customer = first(knownName(v));
    const agent = first(S.me?.name);
    return text.replace(/\{(\w+)\}/g, (whole, word) =>
      word === 'name' ? customer || 'there' : word === 'agent' ? agent || whole : whole,
    );
  }

  /** A saved reply picked: into the message box at the cursor (on a line of its own), to change before sending. */
  function useSavedReply(picker) {
    const saved = S.savedReplies[Number(picker.value)];
    picker.value = '';
    if (!saved) return;
    const reply = { ...saved, text: fillSavedReply(saved.text, current()) };
    const box = els.reply;
    const at = box.selectionStart ?? box.value.length;
    const before = box.value.slice(0, at);
    const after = box.value.slice(box.selectionEnd ?? at);
    const lead = before && !before.endsWith('\n') ? '\n' : '';
    box.value = `${before}${lead}${reply.text}${after}`;
    const cursor = before.length + lead.length + reply.text.length;
    box.focus();
    box.setSelectionRange(cursor, cursor);
  }

  /** An earlier conversation in one line: when, on what, how it stands, with whom. */
  function summaryLine(x) {
    return [
      formatTime(x.createdAt),
      CHANNEL_NAMES[x.lastChannel] || x.lastChannel,
      CONV_STATUS[x.status] || x.status,
      x.ownerName ? `with ${x.ownerName}` : '',
      x.resolvedAt ? `closed ${formatTime(x.resolvedAt)}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
  }

  /** The earlier conversation being read in this view's context card, or null. */
  function transcriptIn(viewId) {
    return S.transcript?.viewId === viewId ? S.transcript : null;
  }

  /** Put away the earlier conversation being read. */
  function closeTranscript() {
    S.transcript = null;
    renderContext();
  }

  /** Read one of the customer's earlier conversations under the list (again: put it away). */
  async function readTranscript(button, viewId, conversationId) {
    if (transcriptIn(viewId)?.conversation.id === conversationId) return closeTranscript();
    await busy(button, async () => {
      const res = await act('transcript', { conversationId });
      if (!res.ok || S.selected !== viewId) return;
      S.transcript = { viewId, conversation: res.conversation, messages: res.messages || [] };
      renderContext();
      els.context.querySelector('[data-sb="transcript"]')?.scrollIntoView({ block: 'nearest' });
    });
  }

  /** The earlier conversation being read, every message as the thread shows it; nothing to change in it. */
  function transcriptElement(v) {
    const t = transcriptIn(v.id);
    if (!t) return null;
    return h(
      'div',
      { class: 'transcript', 'data-sb': 'transcript', role: 'region', 'aria-label': 'Earlier conversation' },
      h(
        'div',
        { class: 'transcript-head' },
        h('strong', { text: summaryLine(t.conversation) }),
        h('button', { type: 'button', class: 'quiet', text: 'Close', onclick: closeTranscript }),
      ),
      t.messages.length
        ? h('div', { class: 'transcript-messages' }, ...t.messages.map((m) => messageElement(v, m)))
        : h('p', { class: 'empty', text: 'Nothing was said in it.' }),
    );
  }

  function section(title, ...body) {
    return h('section', { class: 'ctx-section' }, h('h3', { text: title }), ...body);
  }

  function renderContext() {
    keepFocus(els.context, drawContext);
  }

  function drawContext() {
    const v = current();
    if (!v) {
      els.context.replaceChildren(
        h('p', { class: 'empty', text: 'Select a conversation to see who you are talking to.' }),
      );
      return;
    }
    const cu = v.customer || { facts: {}, identities: [] };
    const c = v.conversation;
    const parts = [h('p', { class: 'ctx-name', dir: 'auto', text: cu.name || 'Name not known yet' })];
    if (cu.blocked) {
      parts.push(
        h('p', {
          class: 'handoff-note',
          'data-sb': 'blocked',
          text: `Blocked ${formatTime(cu.blocked.at)}${cu.blocked.reason ? `: ${cu.blocked.reason}` : ''}. What they send is not routed.`,
        }),
      );
    }
    if (c.repeatOf) {
      parts.push(
        h('p', {
          class: 'handoff-note',
          'data-sb': 'repeat-contact',
          text: 'Repeat contact: they came back soon after their last conversation was resolved.',
        }),
      );
    }
    if (c.followUpOf) {
      parts.push(
        h('p', {
          class: 'handoff-note',
          'data-sb': 'follow-up',
          text: 'Follow-up: we reach out to them; see the note in the conversation.',
        }),
      );
    }

    if (c.handoff && c.ownerId === S.me?.id) {
      // Their own offer, not yet answered: to whom, and a way to take it back (the colleague may have no room).
      parts.push(
        h(
          'div',
          { class: 'handoff-note', 'data-sb': 'handoff-pending' },
          h('span', {
            text: `Offered to ${agentName(c.handoff.to)}: it stays yours until they accept. `,
          }),
          h('button', {
            type: 'button',
            class: 'quiet',
            'data-sb': 'handoff-withdraw',
            text: 'Take it back',
            onclick: (e) => withdrawHandoff(e.currentTarget, v.id),
          }),
        ),
      );
    } else if (c.handoff) {
      parts.push(
        h(
          'div',
          { class: 'handoff-note' },
          h('strong', { text: `Hand-off note from ${agentName(c.handoff.from)}: ` }),
          h('span', { text: c.handoff.note || '(no note)' }),
        ),
      );
    }

    const facts = Object.entries(cu.facts || {});
    parts.push(
      section(
        'Known facts',
        facts.length
          ? [
              h('p', { class: 'hint', text: "Already known — don't ask again." }),
              h(
                'dl',
                { class: 'facts' },
                facts.map(([key, f]) =>
                  h(
                    'div',
                    { class: 'fact', 'data-sb': 'fact', 'data-key': key },
                    h('dt', { text: key.replace(/_/g, ' ') }),
                    h('dd', {}, h('span', { class: 'fact-value', text: f.value })),
                    h('dd', {
                      class: 'fact-source',
                      text: `from ${FACT_SOURCE[f.source] || f.source}${f.at ? `, ${formatTime(f.at)}` : ''}`,
                    }),
                  ),
                ),
              ),
            ]
          : h('p', { class: 'empty', text: 'Nothing known yet.' }),
      ),
    );

    // What colleagues and Switchboard noted about the customer (a block's reason, an address that belongs to
    // another customer too): the latest few, newest first.
    const notes = (cu.notes || []).slice(-5).reverse();
    if (notes.length) {
      parts.push(
        section(
          'Notes',
          h(
            'ul',
            { class: 'plain' },
            notes.map((n) =>
              h(
                'li',
                { 'data-sb': 'customer-note' },
                h('span', { text: `${n.text} ` }),
                h('span', {
                  class: 'muted',
                  text: `(${n.by === 'system' ? 'Switchboard' : n.by === 'admin' ? 'the admin' : agentName(n.by)}${n.at ? `, ${formatTime(n.at)}` : ''})`,
                }),
              ),
            ),
          ),
        ),
      );
    }

    const ids = cu.identities || [];
    parts.push(
      section(
        'Channels',
        h('p', {
          class: 'muted',
          text: `This conversation: ${(c.channels || [c.lastChannel]).join(', ')} (${repliesGo(c, ids)})`,
        }),
        ids.length
          ? h(
              'ul',
              { class: 'plain' },
              ids.map((i) => {
                // A closed conversation: the agent may write to them again, on a channel that goes out.
                const by = i.channel === 'phone' ? 'sms' : i.channel === 'email' ? 'email' : null;
                const again = by && S.writesOn.includes(by) && !isOpen(v) && !cu.blocked;
                return h(
                  'li',
                  {},
                  h('span', {
                    text:
                      i.channel === 'chat'
                        ? 'chat: website visitor'
                        : i.channel === 'call'
                          ? 'phone: hidden number (one call)'
                          : `${i.channel}: ${i.address} `,
                  }),
                  again
                    ? h('button', {
                        type: 'button',
                        class: 'quiet',
                        'data-sb': 'write-again',
                        text: by === 'sms' ? 'Text them' : 'Email them',
                        onclick: () => writeAgain(by, i.address),
                      })
                    : null,
                );
              }),
            )
          : null,
      ),
    );

    const history = (v.history || []).filter((x) => x.id !== c.id);
    parts.push(
      section(
        'Earlier conversations',
        history.length
          ? h(
              'ul',
              { class: 'plain' },
              history.map((x) => {
                const reading = transcriptIn(v.id)?.conversation.id === x.id;
                return h(
                  'li',
                  { 'data-sb': 'history' },
                  h('span', { text: `${summaryLine(x)} ` }),
                  h('button', {
                    type: 'button',
                    class: 'quiet',
                    'data-sb': 'history-read',
                    text: reading ? 'Reading' : 'Read',
                    'aria-pressed': reading ? 'true' : 'false',
                    onclick: (e) => readTranscript(e.currentTarget, v.id, x.id),
                  }),
                );
              }),
            )
          : h('p', { class: 'empty', text: 'None.' }),
        transcriptElement(v),
      ),
    );

    const promises = (v.promises || []).filter((p) => p.state === 'open').sort((a, b) => a.dueAt - b.dueAt);
    // The agents' own promises on it that broke: listed as broken, not gone (the customer is owed word).
    const broken = (v.broken || []).filter((p) => !promises.some((o) => o.id === p.id));
    const now = Date.now();
    parts.push(
      section(
        'Open promises',
        promises.length || broken.length
          ? h(
              'ul',
              { class: 'plain promises' },
              promises.map((p) =>
                h(
                  'li',
                  { class: p.dueAt < now ? 'overdue' : null, 'data-sb': 'open-promise' },
                  h('span', {
                    class: 'promise-due',
                    text: `${p.dueAt < now ? 'Overdue since' : 'Due'} ${formatTime(p.dueAt)}`,
                  }),
                  h('span', { text: ` · ${PROMISE_KIND[p.kind] || p.kind}${p.text ? `: ${p.text}` : ''}` }),
                  canKeep(p, c)
                    ? h('button', {
                        type: 'button',
                        class: 'quiet',
                        'data-sb': 'promise-keep',
                        text: 'Mark kept',
                        onclick: (e) => keepPromise(e.currentTarget, p.id),
                      })
                    : null,
                ),
              ),
              broken
                .sort((a, b) => a.dueAt - b.dueAt)
                .map((p) =>
                  h(
                    'li',
                    { class: 'broken', 'data-sb': 'broken-promise' },
                    h('span', { class: 'promise-due', text: `Broken: was due ${formatTime(p.dueAt)}` }),
                    h('span', {
                      text: ` · ${PROMISE_KIND[p.kind] || p.kind}${p.agentId && p.agentId !== S.me?.id ? ` (${agentName(p.agentId)})` : ''}${p.text ? `: ${p.text}` : ''}`,
                    }),
                  ),
                ),
            )
          : h('p', { class: 'empty', text: 'None.' }),
      ),
    );

    if (c.ownership?.length) {
      parts.push(
        section(
          'Ownership',
          h(
            'ol',
            { class: 'plain' },
            c.ownership.map((o) =>
              h('li', {
                text: `${formatTime(o.at)} · ${o.from ? `${agentName(o.from)} → ` : ''}${agentName(o.to)} (${o.reason})`,
              }),
            ),
          ),
        ),
      );
    }
    els.context.replaceChildren(...parts);
  }

  /** The banners said already (each is said once, when it comes). */
  const bannersSaid = new Set();

  function renderBanners() {
    keepFocus(els.banners, drawBanners);
    const now = new Set();
    for (const el of els.banners.children) {
      const key = el.dataset.key;
      now.add(key);
      // The offer, the invitation or the hand-off and its note, in the banner's words.
      if (!bannersSaid.has(key))
        announce(`${el.getAttribute('aria-label')}: ${el.firstElementChild?.textContent}`);
    }
    bannersSaid.clear();
    for (const key of now) bannersSaid.add(key);
  }

  function drawBanners() {
    const items = [...S.banners.values()].map((b) => {
      const v = S.views.get(b.conversationId);
      const from = b.from?.name || 'A colleague';
      const about = v ? ` with ${customerName(v)}` : '';
      const buttons = [
        h('button', { type: 'button', class: 'secondary', text: 'View', onclick: () => viewInvite(b) }),
      ];
      let text;
      if (b.kind === 'promise') {
        // My own promise: due soon (Mark kept here), or broken (the customer is owed word from me).
        const p = b.promise;
        const what = `${PROMISE_KIND[p.kind] || 'Promise'}${v ? ` to ${customerName(v)}` : ''}${p.text ? `: ${p.text}` : ''}`;
        text = h('p', {
          'data-sb': 'reminder-text',
          text:
            p.state === 'broken'
              ? `Your promise broke: it was due ${formatTime(p.dueAt)} and was not marked kept. ${what}`
              : `Reminder: your promise is due ${formatTime(p.dueAt)}. ${what}`,
        });
        if (!v) buttons.length = 0;
        if (p.state === 'open' && (p.agentId === S.me?.id || v?.conversation.ownerId === S.me?.id))
          buttons.push(
            h('button', {
              type: 'button',
              'data-sb': 'reminder-keep',
              text: 'Mark kept',
              onclick: (e) => keepPromise(e.currentTarget, p.id),
            }),
          );
        buttons.push(
          h('button', {
            type: 'button',
            class: 'quiet',
            text: 'Dismiss',
            onclick: () => {
              S.banners.delete(`promise:${p.id}`);
              renderBanners();
              updateTitle();
            },
          }),
        );
      } else if (b.kind === 'offer') {
        buttons.length = 0;
        // To the second: an offer rings for seconds, not minutes.
        const by = b.expiresAt
          ? ` — answer by ${new Date(b.expiresAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`
          : '';
        text = h('p', {
          'data-sb': 'offer-text',
          text: b.callback
            ? `Call back ${b.customer}: your phone rings now; pick it up and Switchboard dials them${by}.`
            : `Incoming ${b.channel === 'voice' ? 'call' : b.channel} from ${b.customer}${by}.`,
        });
        buttons.push(
          h('button', {
            type: 'button',
            'data-sb': 'offer-accept',
            text: 'Accept',
            onclick: (e) => answerOffer(b, true, e.currentTarget),
          }),
          h('button', {
            type: 'button',
            class: 'secondary',
            'data-sb': 'offer-decline',
            text: 'Decline',
            onclick: (e) => answerOffer(b, false, e.currentTarget),
          }),
        );
      } else if (b.kind === 'consult') {
        text = h('p', { text: `${from} asks you to consult on a conversation${about}.` });
        buttons.push(
          h('button', {
            type: 'button',
            'data-sb': 'consult-join',
            text: 'Join',
            onclick: (e) => joinConsult(b, e.currentTarget),
          }),
          h('button', {
            type: 'button',
            class: 'quiet',
            text: 'Dismiss',
            onclick: () => {
              S.banners.delete(`consult:${b.conversationId}`);
              S.dismissed.add(`consult:${b.conversationId}`);
              renderBanners();
            },
          }),
        );
      } else {
        text = h(
          'div',
          {},
          h('p', {
            text: b.offeredBy
              ? `${b.offeredBy[0].toUpperCase()}${b.offeredBy.slice(1)} offers you ${from}'s conversation${about}. It becomes yours once you accept.`
              : `${from} offers you a hand-off of a conversation${about}. It becomes yours once you accept.`,
          }),
          b.note ? h('blockquote', { text: b.note }) : null,
        );
        buttons.push(
          h('button', {
            type: 'button',
            'data-sb': 'handoff-accept',
            text: 'Accept',
            onclick: (e) => answerHandoff(b, true, e.currentTarget),
          }),
          h('button', {
            type: 'button',
            class: 'secondary',
            'data-sb': 'handoff-decline',
            text: 'Decline',
            onclick: (e) => answerHandoff(b, false, e.currentTarget),
          }),
        );
      }
      return h(
        'div',
        {
          class: `banner ${b.kind}${b.promise?.state === 'broken' ? ' broken' : ''}`,
          'data-sb': 'invite-banner',
          'data-kind': b.kind,
          'data-conversation-id': b.conversationId,
          // Said again when it changes: a reminder whose promise broke.
          'data-key': b.promise
            ? `promise:${b.promise.id}:${b.promise.state}`
            : `${b.kind}:${b.conversationId}`,
          role: 'region',
          'aria-label': {
            consult: 'Consult invitation',
            handoff: 'Hand-off offer',
            offer: 'Incoming contact',
            promise: b.promise?.state === 'broken' ? 'Promise broken' : 'Promise reminder',
          }[b.kind],
        },
        text,
        h('div', { class: 'row' }, buttons),
      );
    });
    els.banners.replaceChildren(...items);
  }

  function updateTitle() {
    let total = 0;
    // Only what the list still shows: a conversation that left it (resolved, handed on) takes its count along.
    for (const [id, n] of S.unread) {
      if (S.views.has(id)) total += n;
      else S.unread.delete(id);
    }
    const invites = S.banners.size;
    const count = total + invites;
    document.title = `${count ? `(${count}) ` : ''}Switchboard console`;
  }

  // ------------------------------------------------------------------ wiring

  els.signin.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = els.signinToken.value.trim();
    if (!token) return showError('Paste your agent token.');
    session.set(token);
    connect(token);
  });
  byId('signout').addEventListener('click', () => signOut());
  byId('error-close').addEventListener('click', clearError);

  for (const s of ['available', 'away', 'offline']) {
    sb(`status-${s}`).addEventListener('click', (e) => {
      if (s === 'offline' && askOffline()) return;
      busy(e.currentTarget, () => setStatus(s));
    });
  }
  byId('offline-confirm').addEventListener('submit', (e) => {
    e.preventDefault();
    closeOffline(false);
    busy(sb('status-offline'), () => setStatus('offline'));
  });
  sb('offline-cancel').addEventListener('click', () => closeOffline(true));
  byId('offline-confirm').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeOffline(true);
  });

  byId('compose').addEventListener('submit', (e) => {
    e.preventDefault();
    sendReply();
  });
  sb('note').addEventListener('click', sendNote);
  sb('attach').addEventListener('click', () => sb('file').click());
  // With the list closed, the arrow keys go through the saved replies (the browser says "changed" at each);
  // Enter puts the one shown in the message box. A pick from the open list, by mouse or key, puts it in at once.
  let browsingReplies = false;
  sb('saved-replies').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.currentTarget.value) {
      e.preventDefault();
      useSavedReply(e.currentTarget);
      return;
    }
    browsingReplies = true;
    setTimeout(() => {
      browsingReplies = false;
    });
  });
  sb('saved-replies').addEventListener('change', (e) => {
    if (!browsingReplies) useSavedReply(e.currentTarget);
  });
  // A screenshot pasted into the reply box, or a file dropped on it, is sent as with "Send a file…".
  els.reply.addEventListener('paste', (e) => {
    const file = e.clipboardData?.files?.[0];
    if (file) {
      e.preventDefault();
      sendFile(file);
    }
  });
  els.reply.addEventListener('dragover', (e) => e.preventDefault());
  els.reply.addEventListener('drop', (e) => {
    const file = e.dataTransfer?.files?.[0];
    if (file) {
      e.preventDefault();
      sendFile(file);
    }
  });
  sb('file').addEventListener('change', () => {
    const file = sb('file').files?.[0];
    sb('file').value = '';
    sendFile(file);
  });
  els.reply.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.isComposing) {
      e.preventDefault();
      sendReply();
    }
  });
  els.reply.addEventListener('input', () => {
    setDraft(S.selected, els.reply.value);
    myTyping(!!els.reply.value.trim());
  });

  // The history is a Tab stop of its own, so that the keys scroll it, also when a link in it (a file, "Show
  // original") would otherwise take the stop and leave the rest of it out of reach.
  els.messages.tabIndex = 0;

  // The newest message stays in sight while the list was at its end: when a picture in it loads late (taller than
  // before), and when the list's box shrinks (the reply box appearing under it); not when the agent scrolled up.
  const keepAtEnd = () => {
    if (pinned) els.messages.scrollTop = els.messages.scrollHeight;
  };
  els.messages.addEventListener('scroll', () => {
    pinned = atEnd();
  });
  els.messages.addEventListener('load', keepAtEnd, true);
  if (window.ResizeObserver) new ResizeObserver(keepAtEnd).observe(els.messages);

  sb('resolve').addEventListener('click', resolve);
  sb('wrapup-more').addEventListener('click', moreTime);
  // Done: the after-call work is finished, the conversation resolved (as Resolve does).
  sb('wrapup-done').addEventListener('click', resolve);
  sb('call').addEventListener('click', callThem);
  for (const kind of Object.keys(PANELS)) {
    PANELS[kind].button.addEventListener('click', () => togglePanel(kind));
    PANELS[kind].panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        togglePanel(kind, false);
        PANELS[kind].button.focus();
      }
    });
  }
  byId('consult-panel').addEventListener('submit', consult);
  byId('handoff-panel').addEventListener('submit', handoff);
  sb('write').addEventListener('click', () => toggleWrite());
  byId('write-panel').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      toggleWrite(false);
      sb('write').focus();
    }
  });
  sb('write-channel').addEventListener('change', renderWriteChannel);
  byId('write-panel').addEventListener('submit', writeFirst);
  byId('promise-panel').addEventListener('submit', makePromise);
  byId('block-panel').addEventListener('submit', blockCustomer);
  byId('details-panel').addEventListener('submit', saveDetails);
  sb('consult-leave').addEventListener('click', leaveConsult);
  // The reply kept from a conversation that is no longer mine, put away.
  sb('unsent-dismiss').addEventListener('click', () => {
    const v = current();
    if (!v) return;
    delete v.unsent;
    setDraft(v.id, '');
    if (!roleOf(v)) {
      S.views.delete(v.id);
      select(null);
    } else renderAll();
  });

  // Refresh relative labels (overdue promises, "today" times) now and then.
  setInterval(() => {
    if (S.me) renderContext();
  }, 60_000);
  // Whether the visitor of the open chat is still on the page, asked again now and then.
  setInterval(() => {
    const v = S.selected && S.views.get(S.selected);
    if (S.me && v && isOpen(v)) void askPresence(v.id, true);
  }, 30_000);

  // ------------------------------------------------------------------ start

  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    session.set(fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
  }
  const token = fromUrl || session.get();
  if (token) connect(token);
  else {
    els.signin.hidden = false;
    els.signinToken.focus();
  }
})();
