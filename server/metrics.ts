// Prometheus metrics: what hurts customers, counted from domain events. One
// registry per app instance. Never labelled by phone number, call or conversation id.
import client from 'prom-client';
import type { Store } from '../routing/store/store.js';
import type { EventBus } from '../shared/events.js';

export interface Metrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  /** Stop listening to events. */
  detach(): void;
}

export function createMetrics(events: EventBus, store: Store): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'switchboard_' });

  const timeToHuman = new client.Histogram({
    name: 'switchboard_time_to_human_seconds',
    help: 'From first contact to the first person owning the conversation',
    labelNames: ['channel'],
    buckets: [1, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  new client.Gauge({
    name: 'switchboard_conversations_waiting',
    help: 'Conversations waiting for a person now',
    registers: [registry],
    async collect() {
      try {
        this.set((await store.stats()).waiting);
      } catch {
        // Store unreachable: /readyz says so; keep the last value.
      }
    },
  });
  const ownershipChanges = new client.Counter({
    name: 'switchboard_ownership_changes_total',
    help: 'Ownership moving from one agent to another, by reason (warm hand-off, owner gone)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const promises = new client.Counter({
    name: 'switchboard_promises_total',
    help: 'Promises settled, by kind and outcome (kept, broken, void)',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  });
  const messages = new client.Counter({
    name: 'switchboard_messages_total',
    help: 'Messages by channel and direction',
    labelNames: ['channel', 'direction'],
    registers: [registry],
  });
  const abandoned = new client.Counter({
    name: 'switchboard_abandoned_total',
    help: 'Customers who left before a person answered',
    labelNames: ['channel'],
    registers: [registry],
  });
  const blocked = new client.Counter({
    name: 'switchboard_blocked_contacts_total',
    help: 'Contacts from blocked customers, refused (not stored, not answered), by channel',
    labelNames: ['channel'],
    registers: [registry],
  });
  const erased = new client.Counter({
    name: 'switchboard_customers_erased_total',
    help: 'Customers erased at their request (with the customers merged into them, counted once)',
    registers: [registry],
  });
  const expired = new client.Counter({
    name: 'switchboard_customers_expired_total',
    help: "Customers erased when the policy's retention ran out (retentionDays after they were last active)",
    registers: [registry],
  });
  const retentionFailures = new client.Counter({
    name: 'switchboard_retention_failures_total',
    help: 'Customers past the retention that could not be erased (looked at again at the next look)',
    registers: [registry],
  });
  const pessimism = new client.Histogram({
    name: 'switchboard_quote_pessimism',
    help: 'Quoted wait divided by the actual wait, when a person answers (above 1: the quote was pessimistic, kept)',
    buckets: [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10],
    registers: [registry],
  });
  const atRisk = new client.Counter({
    name: 'switchboard_promise_notices_total',
    help: 'Customers told a quoted wait or call back was about to break, with a new time, by promise kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const reminders = new client.Counter({
    name: 'switchboard_promise_reminders_total',
    help: 'Agents reminded of their own promises before they were due, by promise kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const followUps = new client.Counter({
    name: 'switchboard_followups_opened_total',
    help: 'Follow-up touchpoints opened, by reason (promised when resolving, a low survey rating)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const surveys = new client.Counter({
    name: 'switchboard_surveys_sent_total',
    help: 'Surveys sent after a resolution',
    registers: [registry],
  });
  const ratings = new client.Counter({
    name: 'switchboard_survey_ratings_total',
    help: 'Survey answers by rating (1 bad to 5 good)',
    labelNames: ['rating'],
    registers: [registry],
  });
  const problems = new client.Counter({
    name: 'switchboard_survey_problems_total',
    help: 'Survey answers that named one thing to fix',
    registers: [registry],
  });
  const repeats = new client.Counter({
    name: 'switchboard_repeat_contacts_total',
    help: 'Customers back within the repeat window after a resolution, by the channel they came back on',
    labelNames: ['channel'],
    registers: [registry],
  });
  const httpDuration = new client.Histogram({
    name: 'switchboard_http_request_duration_seconds',
    help: 'HTTP request durations',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  const detach = events.subscribe((event) => {
    switch (event.type) {
      case 'conversation.assigned': {
        const c = event.conversation;
        // An agent writing first kept nobody waiting: not a time to a human.
        if (event.reason === 'outbound') break;
        if (event.previousOwnerId === null && c.firstAssignedAt === event.at) {
          timeToHuman.observe({ channel: c.lastChannel }, Math.max(0, event.at - c.createdAt) / 1000);
        } else if (event.previousOwnerId !== null && event.previousOwnerId !== event.agentId) {
          ownershipChanges.inc({ reason: event.reason });
        }
        break;
      }
      case 'promise.settled': {
        const p = event.promise;
        promises.inc({ kind: p.kind, outcome: p.state });
        if (p.kind === 'wait' && event.waitedMs !== undefined && event.waitedMs > 0)
          pessimism.observe((p.dueAt - p.createdAt) / event.waitedMs);
        break;
      }
      case 'promise.at_risk':
        atRisk.inc({ kind: event.promise.kind });
        break;
      case 'promise.reminder':
        reminders.inc({ kind: event.promise.kind });
        break;
      case 'followup.opened':
        followUps.inc({ reason: event.reason });
        break;
      case 'survey.sent':
        surveys.inc();
        break;
      case 'survey.answered':
        ratings.inc({ rating: String(event.rating) });
        if (event.problem !== null) problems.inc();
        break;
      case 'conversation.repeat':
        repeats.inc({ channel: event.conversation.lastChannel });
        break;
      case 'message.received':
        if (!event.again) messages.inc({ channel: event.message.channel, direction: 'in' });
        break;
      case 'message.sent':
        messages.inc({ channel: event.message.channel, direction: 'out' });
        break;
      case 'message.note':
        messages.inc({ channel: event.message.channel, direction: 'internal' });
        break;
      case 'conversation.abandoned':
        // Closed by the team (a block, an erasure): the customer did not leave.
        if (!event.blocked && !event.erased) abandoned.inc({ channel: event.conversation.lastChannel });
        break;
      case 'contact.blocked':
        blocked.inc({ channel: event.channel });
        break;
      case 'customer.erased':
        if (event.by === 'retention') expired.inc();
        else erased.inc();
        break;
      case 'retention.swept':
        if (event.failed.length > 0) retentionFailures.inc(event.failed.length);
        break;
      default:
        break;
    }
  });
  return { registry, httpDuration, detach };
}
