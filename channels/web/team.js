// The team's live view (/team): what waits, for how long and what each customer
// was told, and every agent's status and load, from GET /api/live every
// POLL_MS. The admin token comes from the page's #token= fragment (kept out of
// server logs and referrers) or the sign-in form, and stays in this tab's
// sessionStorage. Plain script, no build step; text goes in as text, never as HTML.
(() => {
  // Where Switchboard is reached, with its path when it sits under one (https://example.com/help/team).
  const BASE = location.pathname.replace(/\/team\/?$/, '');
  const POLL_MS = 2000;
  /** While the tab is hidden: read less often, and at once when it shows again. */
  const HIDDEN_POLL_MS = 30_000;
  /** Who is blocked changes seldom: read with every this-many-th view (and after a block is lifted here). */
  const BLOCKED_EVERY = 15;
  const BLOCKED_SHOWN = 50;
  const TOKEN_KEY = 'switchboard.team.token';
  const CHANNELS = ['voice', 'sms', 'chat', 'email'];
  const CHANNEL_NAMES = { voice: 'Voice', sms: 'SMS', chat: 'Chat', email: 'Email' };
  const STATUS_NAMES = { available: 'Available', away: 'Away', offline: 'Offline' };

  const $ = (sel) => document.querySelector(sel);
  const el = (tag, props = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') node.className = v;
      else if (k === 'sb') node.dataset.sb = v;
      else if (k.startsWith('aria-')) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) node.append(c);
    return node;
  };

  let token = null;
  let timer = null;
  /** Views read since the blocked customers were; agent id → name, from the last view. */
  let sinceBlocked = BLOCKED_EVERY;
  const agentNames = new Map();
  /** The agents of the last view ({id, name, status}), for the hand-off's picker. */
  let agentList = [];
  /** Agent id → its row, kept between polls so that a status picker in use is not rebuilt under the pointer. */
  const agentRows = new Map();

  /** 45s, 3m 05s, 1h 02m. */
  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
    return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // Whether the error shown is the view's own read failing (the next good read clears it); an action's error
  // stays until it is dismissed or another action is tried.
  let readError = false;
  function showError(text, read = false) {
    readError = read && Boolean(text);
    // Agents by name, not by id ("agent ag_… is offline" reads "Cleo is offline").
    $('#error-text').textContent = text.replace(/\bagent (ag_[A-Za-z0-9_-]+)/g, (whole, id) =>
      agentNames.has(id) ? agentNames.get(id) : whole,
    );
    $('[data-sb=error]').hidden = !text;
  }

  function signedOut(message) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    clearTimeout(timer);
    agentRows.clear();
    $('[data-sb=agents] tbody').replaceChildren();
    $('[data-sb=blocked] tbody').replaceChildren();
    sinceBlocked = BLOCKED_EVERY;
    // What was found of a customer is not left on the page.
    found = null;
    $('[data-sb=found]').hidden = true;
    $('[data-sb=erase-confirm]').hidden = true;
    dataResult('');
    $('#team').hidden = true;
    $('#bar').hidden = true;
    $('#signin').hidden = false;
    showError(message || '');
    $('#signin-token').focus();
  }

  function signedIn(value) {
    token = value;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('#signin').hidden = true;
    $('#bar').hidden = false;
    showError('');
    poll();
  }

  async function api(method, path, body) {
    const res = await fetch(`${BASE}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json().catch(() => null);
    if (res.status === 401) {
      signedOut('That admin token was not accepted. Sign in with the current one.');
      return null;
    }
    if (res.status === 403 && path === '/api/live') {
      // An agent's console link, not a team lead's (or no longer one).
      signedOut(json?.error?.message || 'That link does not open the team view.');
      return null;
    }
    if (!res.ok) {
      const err = new Error(json?.error?.message || json?.error || `the server answered ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return json;
  }

  /** One read at a time: a read asked for meanwhile (a status set, the tab shown again) follows it. */
  let reading = false;
  let readAgain = false;

  async function poll() {
    clearTimeout(timer);
    if (!token) return;
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    try {
      const view = await api('GET', '/api/live');
      // Signed out meanwhile: nothing shows.
      if (view && token) {
        render(view);
        if (readError) showError('');
        // What an agent is on reads each of their conversations' messages: again every fifth view (10 s).
        if (heldAgent && ++sinceHeld >= HELD_EVERY) await renderHeld();
      }
      if (view && token && ++sinceBlocked >= BLOCKED_EVERY) {
        const blocked = await api('GET', `/api/customers/blocked?limit=${BLOCKED_SHOWN}`);
        if (blocked && token) {
          sinceBlocked = 0;
          renderBlocked(blocked.customers);
        }
      }
    } catch (err) {
      showError(`Could not read the team's view (${err.message}); trying again.`, true);
    } finally {
      reading = false;
    }
    if (!token) return;
    if (readAgain) {
      readAgain = false;
      return poll();
    }
    timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }

  function renderChannels(view) {
    const late = new Set(view.waiting.filter((w) => w.quoted?.late).map((w) => w.channel));
    // A channel this deployment does not take is left out, unless something is on it still.
    const shown = shownChannels(view);
    const tiles = shown.map((ch) => {
      const c = view.channels[ch];
      const sl = view.day.channels?.[ch]?.serviceLevel;
      const free =
        c.agentsFree === 0
          ? 'nobody free'
          : `${c.agentsFree} ${c.agentsFree === 1 ? 'agent' : 'agents'} free · ${c.freeSlots} ${c.freeSlots === 1 ? 'slot' : 'slots'}`;
      return el(
        'div',
        { class: late.has(ch) ? 'tile slow' : 'tile', sb: `channel-${ch}` },
        el('h3', {}, CHANNEL_NAMES[ch]),
        el('div', { class: 'big', sb: 'channel-waiting' }, String(c.waiting)),
        el(
          'p',
          {},
          c.waiting === 0 ? 'nobody waiting' : `waiting · longest ${duration(c.longestWaitSeconds)}`,
        ),
        el('p', {}, free),
        el('p', {}, `${c.inProgress} in progress`),
        ...(sl && sl.share !== null
          ? [
              el(
                'p',
                { sb: 'channel-service', class: belowGoal(sl, view.day) ? 'late' : '' },
                `${percent(sl.share)} answered within ${duration(sl.targetSeconds)} (24h)`,
              ),
            ]
          : []),
      );
    });
    $('[data-sb=channels]').replaceChildren(...tiles);
  }

  /** 67%: a share as a whole percentage. */
  function percent(share) {
    return `${Math.round(share * 100)}%`;
  }

  /** A channel's service level below the share the team aims for. */
  function belowGoal(sl, day) {
    return sl.share !== null && sl.share < day.serviceLevelGoal;
  }

  /** The channels the view shows: those this deployment takes, and any other with something on it or counted. */
  function shownChannels(view) {
    return CHANNELS.filter((ch) => {
      const c = view.channels[ch];
      const d = view.day.channels?.[ch];
      return (
        c.on !== false ||
        c.waiting > 0 ||
        c.inProgress > 0 ||
        (d && (d.serviceLevel.counted > 0 || d.serviceLevel.shortAbandons > 0 || d.handled.resolved > 0))
      );
    });
  }

  function told(w, now) {
    if (!w.quoted) return el('span', {}, '—');
    if (w.quoted.late)
      return el('span', { class: 'late' }, `late by ${duration((now - w.quoted.dueAt) / 1000)}`);
    return el('span', {}, `by ${clock(w.quoted.dueAt)} (in ${duration((w.quoted.dueAt - now) / 1000)})`);
  }

  function waitsFor(w) {
    if (w.owner) return `${w.owner.name} (owner, ${STATUS_NAMES[w.owner.status] || 'gone'})`;
    if (w.offeredTo) return `ringing ${w.offeredTo.name}`;
    return 'anyone';
  }

  function needs(w) {
    const parts = Object.entries(w.skills).map(([name, level]) => `${name} ${level}`);
    if (w.priority > 0) parts.push(`priority ${w.priority}`);
    return parts.join(', ') || '—';
  }

  function renderWaiting(view) {
    const rows = view.waiting.map((w) =>
      el(
        'tr',
        { sb: 'waiting-row' },
        el('td', {}, w.customer),
        el('td', {}, CHANNEL_NAMES[w.channel] || w.channel),
        el('td', { class: 'num' }, duration(w.waitedSeconds)),
        el('td', {}, told(w, view.at)),
        el('td', {}, waitsFor(w)),
        el('td', {}, needs(w)),
      ),
    );
    $('[data-sb=waiting] tbody').replaceChildren(...rows);
    $('[data-sb=waiting]').hidden = rows.length === 0;
    $('[data-sb=waiting-empty]').hidden = rows.length > 0;
    $('[data-sb=waiting-order]').hidden = rows.length === 0;
    const more = view.waitingTotal - view.waiting.length;
    $('[data-sb=waiting-count]').textContent =
      view.waitingTotal === 0
        ? ''
        : more > 0
          ? `the first ${view.waiting.length} of ${view.waitingTotal}`
          : `${view.waitingTotal}`;
  }

  async function setStatus(agent, select) {
    const row = agentRows.get(agent);
    // The keyboard's place: back on the picker once it is set (Apply goes, and the picker is off meanwhile).
    const focused = document.activeElement === select || document.activeElement === row?.apply;
    if (row) choosing(row, false);
    if (select.value === row?.status) return;
    select.disabled = true;
    try {
      await api('PUT', `/api/agents/${encodeURIComponent(agent)}/status`, {
        status: select.value,
        reason: 'set from the team view',
      });
      await poll();
    } catch (err) {
      select.value = agentRows.get(agent)?.status ?? select.value;
      showError(`Could not change the status (${err.message}).`);
    } finally {
      select.disabled = false;
      if (focused && (!document.activeElement || document.activeElement === document.body)) select.focus();
    }
  }

  /** A status shown in an agent's picker and not yet applied (moved to with the keyboard): Apply shows beside it. */
  function choosing(row, on) {
    row.choosing = on;
    row.apply.hidden = !on;
  }

  function agentRow(a, view) {
    let row = agentRows.get(a.id);
    if (!row) {
      const select = el(
        'select',
        { 'aria-label': `Status of ${a.name}` },
        ...Object.entries(STATUS_NAMES).map(([value, text]) => el('option', { value }, text)),
      );
      // Moving through the options with the arrow keys (the list closed) only shows a status: Enter, or Apply
      // beside it, sets the one shown; Escape puts back the agent's. A pick from the open list sets it at once.
      let browsing = false;
      select.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          setStatus(a.id, select);
        } else if (e.key === 'Escape' && row.choosing) {
          e.preventDefault();
          select.value = row.status;
          choosing(row, false);
        } else {
          browsing = true;
          setTimeout(() => {
            browsing = false;
          });
        }
      });
      select.addEventListener('change', () => {
        if (browsing) choosing(row, select.value !== row.status);
        else setStatus(a.id, select);
      });
      const apply = el(
        'button',
        { type: 'button', class: 'quiet', hidden: true, sb: 'status-apply' },
        'Apply',
      );
      apply.addEventListener('click', () => setStatus(a.id, select));
      const name = el('button', { type: 'button', class: 'link' });
      name.addEventListener('click', () => showHeld(a.id));
      const cells = {
        name: el('td', {}, name),
        status: el('td', {}, select, apply, el('div', { class: 'updated' })),
        ...Object.fromEntries(CHANNELS.map((ch) => [ch, el('td', { class: 'num' })])),
        holds: el('td', { class: 'num' }),
        idle: el('td', { class: 'num' }),
        resolved: el('td', { class: 'num' }),
        handle: el('td', { class: 'num' }),
      };
      row = {
        tr: el('tr', { sb: 'agent-row' }, ...Object.values(cells)),
        cells,
        select,
        apply,
        choosing: false,
      };
      agentRows.set(a.id, row);
    }
    const { cells, select, apply } = row;
    row.status = a.status;
    row.tr.dataset.agent = a.id;
    cells.name.firstChild.textContent = a.name;
    cells.name.firstChild.setAttribute('aria-label', `What ${a.name} is on`);
    cells.status.className = `status-${a.status}`;
    apply.setAttribute('aria-label', `Apply the status of ${a.name}`);
    // Not while someone has it open, or has a choice in it not yet applied: their choice stays until they make it.
    if (document.activeElement !== select && !row.choosing) select.value = a.status;
    else if (row.choosing && select.value === a.status) choosing(row, false);
    // In after-call work: why they take no call now, and for how long.
    const wrapUp = a.wrapUp
      ? `after-call work, ${Math.floor(a.wrapUp.leftSeconds / 60)}:${String(a.wrapUp.leftSeconds % 60).padStart(2, '0')} left`
      : '';
    // Phoning a customer: whom, and for how long (the status reason says only "on a call to a customer").
    const callOut = a.callOut ? `on a call to ${a.callOut.customer}, ${duration(a.callOut.seconds)}` : '';
    cells.status.lastChild.textContent = [callOut || a.statusReason, wrapUp].filter(Boolean).join(' · ');
    for (const ch of CHANNELS) {
      const cap = a.capacity[ch];
      // A channel this deployment has switched off gives nobody anything: its capacity counts for nothing.
      const off = view.channels[ch]?.on === false;
      cells[ch].textContent =
        cap === 0 && a.load[ch] === 0
          ? '—'
          : off
            ? a.load[ch] > 0
              ? `${a.load[ch]} (off)`
              : 'off'
            : `${a.load[ch]} / ${cap}${a.kept?.[ch] ? ` (${a.kept[ch]} kept for a hand-off)` : ''}`;
      cells[ch].classList.toggle('full', !off && cap > 0 && a.load[ch] + (a.kept?.[ch] || 0) >= cap);
    }
    // What they hold of all they can hold on the channels taken here, full when nothing more can be given to them.
    cells.holds.textContent = `${a.holding} of ${a.room}`;
    cells.holds.classList.toggle('full', a.full === true);
    cells.idle.textContent = a.idleSeconds === null ? '' : duration(a.idleSeconds);
    const day = a.day || { resolved: 0, averageHandleSeconds: null };
    cells.resolved.textContent = String(day.resolved);
    cells.handle.textContent = day.averageHandleSeconds === null ? '—' : duration(day.averageHandleSeconds);
    return row.tr;
  }

  function renderAgents(view) {
    const seen = new Set(view.agents.map((a) => a.id));
    for (const a of view.agents) agentNames.set(a.id, a.name);
    agentList = view.agents;
    for (const id of agentRows.keys()) if (!seen.has(id)) agentRows.delete(id);
    const rows = view.agents.map((a) => agentRow(a, view));
    const body = $('[data-sb=agents] tbody');
    // Rows move only when the order changed: moving a row would take the focus off its status picker.
    if (rows.length !== body.children.length || rows.some((tr, i) => body.children[i] !== tr))
      body.replaceChildren(...rows);
    $('[data-sb=agents]').hidden = view.agents.length === 0;
    $('[data-sb=agents-empty]').hidden = view.agents.length > 0;
    const available = view.agents.filter((a) => a.status === 'available').length;
    $('[data-sb=agents-count]').textContent = `${available} of ${view.agents.length} available`;
  }

  // ---- what one agent is on, and who of their customers waits for an answer (read with every view while shown).

  let heldAgent = null;
  const HELD_EVERY = 5;
  let sinceHeld = 0;
  const PARTS = {
    owner: 'owns',
    cover: 'covers',
    consultant: 'consults',
    invited: 'invited',
    offered: 'offered',
  };

  async function showHeld(agentId) {
    heldAgent = agentId;
    await renderHeld();
    $('[data-sb=held]').scrollIntoView({ block: 'nearest' });
  }

  async function renderHeld() {
    if (!heldAgent) return;
    const id = heldAgent;
    sinceHeld = 0;
    const res = await api('GET', `/api/agents/${encodeURIComponent(id)}/conversations`);
    if (!res || heldAgent !== id) return;
    $('[data-sb=held-title]').textContent = `${res.agent.name} is on`;
    const rows = res.conversations.map((c) =>
      el(
        'tr',
        { sb: 'held-row' },
        el('td', {}, c.customer),
        el('td', {}, CHANNEL_NAMES[c.channel] || c.channel),
        el('td', {}, PARTS[c.role] || c.role),
        el('td', { class: 'num' }, duration(c.sinceSeconds)),
        el(
          'td',
          { class: c.waitingForReplySeconds === null ? 'num' : 'num late' },
          c.waitingForReplySeconds === null ? '—' : duration(c.waitingForReplySeconds),
        ),
        el(
          'td',
          {},
          c.handoffTo
            ? `offered to ${c.handoffTo}`
            : c.role === 'owner'
              ? el(
                  'button',
                  {
                    type: 'button',
                    class: 'quiet',
                    sb: 'held-handoff',
                    onclick: () => askHandoff(res.agent, c),
                  },
                  'Hand off…',
                )
              : '',
        ),
      ),
    );
    $('[data-sb=held-table] tbody').replaceChildren(...rows);
    $('[data-sb=held-table]').hidden = rows.length === 0;
    $('[data-sb=held-empty]').hidden = rows.length > 0;
    $('[data-sb=held]').hidden = false;
    // Taking someone off the team is the admin's (not a lead's).
    $('[data-sb=leave-row]').hidden = !admin;
    held = res;
  }

  function closeHeld() {
    heldAgent = null;
    $('[data-sb=held]').hidden = true;
    $('[data-sb=handoff-form]').hidden = true;
    $('[data-sb=leave-confirm]').hidden = true;
  }
  $('[data-sb=held-close]').addEventListener('click', closeHeld);

  // ---- an agent who left the team (DELETE /api/agents/:id): what they had goes to colleagues now.

  let admin = false;
  let held = null;
  $('[data-sb=leave]').addEventListener('click', () => {
    if (!held) return;
    const owned = held.conversations.filter((c) => c.role === 'owner').length;
    $('[data-sb=leave-what]').textContent =
      `${held.agent.name} leaves the team: ` +
      (owned === 1
        ? 'the conversation they own goes to a colleague now, '
        : owned > 1
          ? `the ${owned} conversations they own go to colleagues now, `
          : '') +
      'their console link stops working and nothing is given to them again. ' +
      'Their name stays in the conversations they worked on. It cannot be undone (create them again to bring them back).';
    $('[data-sb=leave-confirm]').hidden = false;
    $('[data-sb=leave-send]').focus();
  });
  $('[data-sb=leave-cancel]').addEventListener('click', () => {
    $('[data-sb=leave-confirm]').hidden = true;
  });
  $('[data-sb=leave-confirm]').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!held) return;
    const { id, name } = held.agent;
    try {
      const res = await api('DELETE', `/api/agents/${encodeURIComponent(id)}`);
      if (!res) return;
      closeHeld();
      $('[data-sb=leave-result]').textContent = `${name} has left the team.`;
      await poll();
    } catch (err) {
      showError(`Could not take ${name} off the team (${err.message}).`);
    }
  });

  // ---- a hand-off in the owner's stead: the colleague accepts or declines it, as the owner's own.

  let handingOff = null;

  function askHandoff(owner, c) {
    handingOff = { conversationId: c.id, ownerId: owner.id };
    $('[data-sb=handoff-what]').textContent =
      `Offer ${owner.name}'s conversation with ${c.customer} to a colleague. ${owner.name} stays the owner until they accept.`;
    const colleagues = agentList.filter((a) => a.id !== owner.id);
    // Nobody offline can take a hand-off (the server refuses it): shown, not offered.
    $('[data-sb=handoff-to]').replaceChildren(
      ...colleagues.map((a) =>
        el(
          'option',
          { value: a.id, disabled: a.status === 'offline' },
          a.status === 'offline' ? `${a.name} (offline: cannot take a hand-off)` : `${a.name} (${a.status})`,
        ),
      ),
    );
    const first = colleagues.find((a) => a.status !== 'offline');
    if (first) $('[data-sb=handoff-to]').value = first.id;
    $('[data-sb=handoff-note]').value = '';
    $('[data-sb=handoff-form]').hidden = false;
    $('[data-sb=handoff-note]').focus();
  }

  $('[data-sb=handoff-cancel]').addEventListener('click', () => {
    handingOff = null;
    $('[data-sb=handoff-form]').hidden = true;
  });

  $('[data-sb=handoff-form]').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!handingOff) return;
    const button = $('[data-sb=handoff-send]');
    button.disabled = true;
    try {
      await api('POST', `/api/conversations/${encodeURIComponent(handingOff.conversationId)}/handoff`, {
        toAgentId: $('[data-sb=handoff-to]').value,
        note: $('[data-sb=handoff-note]').value,
      });
      handingOff = null;
      $('[data-sb=handoff-form]').hidden = true;
      showError('');
      await renderHeld();
    } catch (err) {
      showError(`Could not offer the hand-off (${err.message}).`);
    } finally {
      button.disabled = false;
    }
  });

  /** As the server names a customer to the team (channels/team.ts `customerName`). */
  function customerName(c) {
    return (
      c.name ||
      c.facts?.name?.value ||
      c.identities.find((i) => i.channel === 'phone' || i.channel === 'email')?.address ||
      (c.identities.some((i) => i.channel === 'call')
        ? `Hidden number ${c.id.slice(-4)}`
        : c.identities.length > 0
          ? `Website visitor ${c.id.slice(-4)}`
          : 'A customer')
    );
  }

  async function lift(customer, button) {
    button.disabled = true;
    try {
      await api('DELETE', `/api/customers/${encodeURIComponent(customer.id)}/block`);
      sinceBlocked = BLOCKED_EVERY;
      await poll();
    } catch (err) {
      showError(`Could not lift the block (${err.message}).`);
      button.disabled = false;
    }
  }

  function renderBlocked(customers) {
    const rows = customers.map((c) => {
      const b = c.blocked;
      const by = b.by === 'admin' ? 'the admin' : agentNames.get(b.by) || b.by;
      const button = el('button', { type: 'button', class: 'secondary' }, 'Lift the block');
      button.setAttribute('aria-label', `Lift the block on ${customerName(c)}`);
      button.addEventListener('click', () => lift(c, button));
      return el(
        'tr',
        { sb: 'blocked-row' },
        el('td', {}, customerName(c)),
        el('td', {}, `${new Date(b.at).toLocaleDateString()} ${clock(b.at)}`),
        el('td', {}, by),
        el('td', {}, b.reason || '—'),
        el('td', {}, button),
      );
    });
    $('[data-sb=blocked] tbody').replaceChildren(...rows);
    $('[data-sb=blocked]').hidden = rows.length === 0;
    $('[data-sb=blocked-empty]').hidden = rows.length > 0;
    $('[data-sb=blocked-count]').textContent =
      rows.length === 0 ? '' : rows.length === BLOCKED_SHOWN ? `the latest ${rows.length}` : `${rows.length}`;
  }

  // ---- a customer's data: found by an address they wrote from, downloaded, or erased at their request.

  /** The customer found (with their conversations), or null. */
  let found = null;

  /** Which of GET /api/customers' parameters an address is: an email has an @, a phone number digits. */
  function findParam(address) {
    if (address.includes('@')) return 'email';
    if (/^\+?[\d\s().-]{6,}$/.test(address)) return 'phone';
    return 'visitor';
  }

  function dataResult(text) {
    $('[data-sb=data-result]').textContent = text;
  }

  async function find(address) {
    found = null;
    $('[data-sb=found]').hidden = true;
    $('[data-sb=erase-confirm]').hidden = true;
    dataResult('');
    let json;
    try {
      json = await api('GET', `/api/customers?${findParam(address)}=${encodeURIComponent(address)}`);
    } catch (err) {
      return dataResult(
        err.status === 404 ? `Nobody wrote from ${address}.` : `Could not look them up (${err.message}).`,
      );
    }
    if (!json) return;
    found = json;
    const c = json.customer;
    const ways = c.identities
      .map((i) =>
        i.channel === 'chat'
          ? 'the website chat'
          : i.channel === 'call'
            ? 'a call from a hidden number'
            : i.address,
      )
      .join(', ');
    const n = json.conversations.length;
    $('[data-sb=found-who]').textContent =
      `${customerName(c)}: ${ways || 'no address kept'}; ${n} conversation${n === 1 ? '' : 's'}` +
      (c.blocked ? '; blocked' : '');
    $('[data-sb=found]').hidden = false;
  }

  async function download() {
    if (!found) return;
    const id = found.customer.id;
    const exported = await api('GET', `/api/customers/${encodeURIComponent(id)}/export`);
    if (!exported) return;
    const url = URL.createObjectURL(new Blob([JSON.stringify(exported)], { type: 'application/json' }));
    const a = el('a', { href: url, download: `switchboard-customer-${id}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    dataResult(`Their data is downloaded as switchboard-customer-${id}.json.`);
  }

  async function erase() {
    if (!found) return;
    const c = found.customer;
    try {
      const res = await api('DELETE', `/api/customers/${encodeURIComponent(c.id)}`);
      if (!res) return;
      const e = res.erased;
      found = null;
      $('[data-sb=found]').hidden = true;
      $('#find-address').value = '';
      dataResult(
        `${customerName(c)} is erased: ${e.conversationIds.length} conversation(s), ${e.messages} message(s) and ${e.files} file(s) are no longer kept.`,
      );
      sinceBlocked = BLOCKED_EVERY;
      await poll();
    } catch (err) {
      dataResult(`Could not erase them (${err.message}).`);
    }
  }

  $('[data-sb=find]').addEventListener('submit', (e) => {
    e.preventDefault();
    const address = $('#find-address').value.trim();
    if (address && token)
      find(address).catch((err) => dataResult(`Could not look them up (${err.message}).`));
  });
  $('[data-sb=download]').addEventListener('click', () => {
    download().catch((err) => dataResult(`Could not export their data (${err.message}).`));
  });
  $('[data-sb=erase]').addEventListener('click', () => {
    if (!found) return;
    const n = found.conversations.length;
    const open = found.conversations.filter((c) => c.status === 'queued' || c.status === 'assigned').length;
    $('[data-sb=erase-what]').textContent =
      `This erases ${customerName(found.customer)} and everything Switchboard keeps about them: ` +
      `${n} conversation${n === 1 ? '' : 's'} with their messages, files and notes` +
      (open ? ` (${open} still open: closed first)` : '') +
      '. It cannot be undone; download their data first if they asked for it.';
    $('[data-sb=erase-confirm]').hidden = false;
    $('#erase-word').value = '';
    $('#erase-word').focus();
  });
  $('[data-sb=erase-cancel]').addEventListener('click', () => {
    $('[data-sb=erase-confirm]').hidden = true;
  });
  $('[data-sb=erase-confirm]').addEventListener('submit', (e) => {
    e.preventDefault();
    if ($('#erase-word').value.trim() !== 'ERASE') {
      dataResult('Type ERASE (in capitals) to confirm.');
      $('#erase-word').focus();
      return;
    }
    $('[data-sb=erase-confirm]').hidden = true;
    erase();
  });

  function renderDay(view) {
    const d = view.day;
    const t = d.timeToHumanSeconds;
    const parts = [
      t.samples === 0
        ? 'Nobody answered yet'
        : `Time to a person: median ${duration(t.p50)}, 90% within ${duration(t.p90)} (${t.samples} answered)`,
      d.quotes.keptShare === null
        ? 'no quoted waits settled'
        : `quoted waits kept: ${Math.round(d.quotes.keptShare * 100)}% (${d.quotes.kept} of ${d.quotes.kept + d.quotes.broken})`,
      `resolved: ${d.conversations.resolved}`,
      `abandoned: ${d.conversations.abandoned}`,
    ];
    $('[data-sb=day]').textContent = parts.join(' · ');
    renderDayChannels(view);
  }

  /** Per channel: the service level against its target, who hung up, what was resolved and how long it took. */
  function renderDayChannels(view) {
    const d = view.day;
    if (!d.channels) return;
    const rows = shownChannels(view).map((ch) => {
      const { serviceLevel: sl, handled } = d.channels[ch];
      const within =
        sl.counted === 0
          ? 'none yet'
          : `${sl.inTime} of ${sl.counted} within ${duration(sl.targetSeconds)}` +
            (sl.waitingPast > 0 ? `; ${sl.waitingPast} still waiting past it` : '');
      return el(
        'tr',
        { sb: 'day-channel-row' },
        el('td', {}, CHANNEL_NAMES[ch]),
        el(
          'td',
          { class: belowGoal(sl, d) ? 'num late' : 'num' },
          sl.share === null ? '—' : percent(sl.share),
        ),
        el('td', {}, within),
        el(
          'td',
          { class: 'num' },
          sl.shortAbandons > 0
            ? `${sl.abandoned} (and ${sl.shortAbandons} within ${d.shortAbandonSeconds}s, left out)`
            : String(sl.abandoned),
        ),
        el('td', { class: 'num' }, String(handled.resolved)),
        el(
          'td',
          { class: 'num' },
          handled.averageHandleSeconds === null ? '—' : duration(handled.averageHandleSeconds),
        ),
      );
    });
    $('[data-sb=day-channels] tbody').replaceChildren(...rows);
    $('[data-sb=day-channels]').hidden = rows.length === 0;
    $('[data-sb=day-goal]').textContent =
      `Service level: of the waits for a person that were answered, abandoned or are still waiting past the ` +
      `channel's target, the share answered within it; the team aims for ${percent(d.serviceLevelGoal)} ` +
      `(shown in red below it). Callers who hang up within ${d.shortAbandonSeconds}s are left out. ` +
      `Resolved: in the last 24 hours, however long before they started. Handle time: from a person getting ` +
      `the conversation to its resolution (time open, waiting for the customer included); an agent's own, ` +
      `from when it became theirs. Counted once a minute.`;
  }

  /**
   * "Closed now · opens in 42m 10s" while the team is closed. The live region (hours) says "Closed now" once, as
   * the team closes; the countdown beside it, outside the region, is drawn again at each reading without a word.
   */
  function renderHours(view) {
    const closed = view.hours && !view.hours.open;
    const never = closed && view.hours.opensInSeconds === null;
    const state = !closed ? '' : never ? 'Closed: the opening hours open on no day' : 'Closed now';
    const opens = closed && !never ? ` · opens in ${duration(view.hours.opensInSeconds)}` : '';
    if ($('[data-sb=hours]').textContent !== state) $('[data-sb=hours]').textContent = state;
    $('[data-sb=hours-opens]').textContent = opens;
  }

  function render(view) {
    // A team lead signed in with their console link: their name shows, and what only the admin does does not.
    const lead = view.viewer?.role === 'lead';
    $('[data-sb=viewer]').textContent = lead ? `${view.viewer.name} (team lead)` : '';
    $('[data-sb=customer-data]').hidden = lead;
    admin = view.viewer?.role === 'admin';
    renderHours(view);
    renderChannels(view);
    renderWaiting(view);
    renderAgents(view);
    renderDay(view);
    $('#team').hidden = false;
    $('[data-sb=updated]').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  $('#signin').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('#signin-token').value.trim();
    if (value) signedIn(value);
  });
  $('#signout').addEventListener('click', () => signedOut(''));
  $('#error-close').addEventListener('click', () => showError(''));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && token) poll();
  });

  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromFragment) history.replaceState(null, '', location.pathname + location.search);
  const saved = fromFragment || sessionStorage.getItem(TOKEN_KEY);
  if (saved) signedIn(saved);
  else signedOut('');
})();
