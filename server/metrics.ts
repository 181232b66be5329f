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
  client.collectDefaultMetrics({ register: registry, prefix: 'switchboard_process_' });

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
        if (event.previousOwnerId === null && c.firstAssignedAt === event.at) {
          timeToHuman.observe({ channel: c.lastChannel }, Math.max(0, event.at - c.createdAt) / 1000);
        } else if (event.previousOwnerId !== null && event.previousOwnerId !== event.agentId) {
          ownershipChanges.inc({ reason: event.reason });
        }
        break;
      }
      case 'promise.settled':
        promises.inc({ kind: event.promise.kind, outcome: event.promise.state });
        break;
      case 'message.received':
        messages.inc({ channel: event.message.channel, direction: 'in' });
        break;
      case 'message.sent':
        messages.inc({ channel: event.message.channel, direction: 'out' });
        break;
      case 'message.note':
        messages.inc({ channel: event.message.channel, direction: 'internal' });
        break;
      case 'conversation.abandoned':
        abandoned.inc({ channel: event.conversation.lastChannel });
        break;
      default:
        break;
    }
  });
  return { registry, httpDuration, detach };
}
