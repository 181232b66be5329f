// The built-in web agent console: socket.io namespace `/agent` (PROTOCOL.md).
import type { Namespace, Server, Socket } from 'socket.io';
import { z } from 'zod';
import { REPLY_MAX, type Router } from '../../routing/router.js';
import { fromZod } from '../../shared/errors.js';
import type { DomainEvent } from '../../shared/events.js';
import { AgentStatus, type Conversation } from '../../shared/model.js';
import type { TokenSigner } from '../../shared/tokens.js';
import { type Ack, withAck } from '../ack.js';
import { conversationView, participants } from '../views.js';

const ConvId = z.object({ conversationId: z.string().min(1).max(128) });
const Schemas = {
  status: z.object({ status: AgentStatus }),
  // The router checks the length for the reply's channel (REPLY_MAX); this is the longest any channel takes.
  reply: ConvId.extend({
    text: z.string().max(Math.max(...Object.values(REPLY_MAX))),
    clientMessageId: z.string().min(1).max(100),
  }),
  note: ConvId.extend({ text: z.string().max(4000) }),
  resolve: ConvId.extend({ followUpAt: z.number().int().positive().nullable().optional() }),
  consult: ConvId.extend({ agentId: z.string().min(1).max(128) }),
  handoff: ConvId.extend({ toAgentId: z.string().min(1).max(128), note: z.string().max(2000) }),
  promise: ConvId.extend({ dueAt: z.number().int().positive(), text: z.string().max(1000) }),
  promiseKeep: z.object({ promiseId: z.string().min(1).max(128) }),
  typing: ConvId.extend({ typing: z.boolean() }),
  offer: ConvId,
  none: z.object({}).optional(),
};

function parse<S extends z.ZodType>(schema: S, payload: unknown, what: string): z.output<S> {
  const result = schema.safeParse(payload);
  if (!result.success) throw fromZod(result.error, what);
  return result.data;
}

export interface WebConsoleOptions {
  router: Router;
  tokens: TokenSigner;
}

export class WebConsole {
  readonly #nsp: Namespace;
  readonly #router: Router;
  readonly #unsubscribe: () => void;

  constructor(io: Server, options: WebConsoleOptions) {
    this.#router = options.router;
    this.#nsp = io.of('/agent');
    this.#nsp.use((socket, next) => {
      const agentId = options.tokens.verify(
        'agent',
        (socket.handshake.auth as { token?: unknown } | undefined)?.token,
      );
      if (!agentId) return next(new Error('unauthorized'));
      this.#router.store.getAgent(agentId).then(
        (agent) => {
          if (!agent) return next(new Error('unauthorized'));
          socket.data.agentId = agentId;
          next();
        },
        () => next(new Error('unavailable')),
      );
    });
    this.#nsp.on('connection', (socket) => this.#connected(socket));
    // Every process mirrors every event (its own and, in Redis mode, the others') to its own agents' sockets.
    this.#unsubscribe = this.#router.events.subscribe(
      (event) => {
        this.#onEvent(event).catch(() => {});
      },
      { remote: true },
    );
  }

  close(): void {
    this.#unsubscribe();
  }

  #connected(socket: Socket): void {
    const agentId = socket.data.agentId as string;
    const r = this.#router;
    socket.join(`agent:${agentId}`);
    const on = (event: string, handler: (payload: unknown) => Promise<Ack>) =>
      socket.on(event, (payload: unknown, ack?: unknown) => withAck(ack, () => handler(payload)));

    on('status', async (p) => {
      const { status } = parse(Schemas.status, p, 'status');
      return { ok: true, agent: await r.setAgentStatus(agentId, status) };
    });
    on('reply', async (p) => {
      const { conversationId, text, clientMessageId } = parse(Schemas.reply, p, 'reply');
      const message = await r.reply(agentId, conversationId, text, clientMessageId);
      return { ok: true, messageId: message.id };
    });
    on('note', async (p) => {
      const { conversationId, text } = parse(Schemas.note, p, 'note');
      const message = await r.note(agentId, conversationId, text);
      return { ok: true, messageId: message.id };
    });
    on('resolve', async (p) => {
      const { conversationId, followUpAt } = parse(Schemas.resolve, p, 'resolve');
      await r.resolve(agentId, conversationId, followUpAt ?? null);
      return { ok: true };
    });
    on('consult', async (p) => {
      const { conversationId, agentId: colleague } = parse(Schemas.consult, p, 'consult');
      await r.consult(agentId, conversationId, colleague);
      return { ok: true };
    });
    on('consult.join', async (p) => {
      const { conversationId } = parse(ConvId, p, 'consult.join');
      const conversation = await r.joinConsult(agentId, conversationId);
      return { ok: true, view: await conversationView(r.store, conversation, agentId) };
    });
    on('consult.leave', async (p) => {
      const { conversationId } = parse(ConvId, p, 'consult.leave');
      await r.leaveConsult(agentId, conversationId);
      return { ok: true };
    });
    on('handoff', async (p) => {
      const { conversationId, toAgentId, note } = parse(Schemas.handoff, p, 'handoff');
      await r.handoff(agentId, conversationId, toAgentId, note);
      return { ok: true };
    });
    on('handoff.accept', async (p) => {
      const { conversationId } = parse(ConvId, p, 'handoff.accept');
      await r.acceptHandoff(agentId, conversationId);
      return { ok: true };
    });
    on('handoff.decline', async (p) => {
      const { conversationId } = parse(ConvId, p, 'handoff.decline');
      await r.declineHandoff(agentId, conversationId);
      return { ok: true };
    });
    on('promise', async (p) => {
      const { conversationId, dueAt, text } = parse(Schemas.promise, p, 'promise');
      const promise = await r.promise(agentId, conversationId, dueAt, text);
      return { ok: true, promise };
    });
    on('promise.keep', async (p) => {
      const { promiseId } = parse(Schemas.promiseKeep, p, 'promise.keep');
      return { ok: true, promise: await r.keepPromise(agentId, promiseId) };
    });
    on('typing', async (p) => {
      const { conversationId, typing } = parse(Schemas.typing, p, 'typing');
      await r.agentTyping(agentId, conversationId, typing);
      return { ok: true };
    });
    on('offer.accept', async (p) => {
      const { conversationId } = parse(Schemas.offer, p, 'offer.accept');
      await r.acceptOffer(agentId, conversationId);
      return { ok: true };
    });
    on('offer.decline', async (p) => {
      const { conversationId } = parse(Schemas.offer, p, 'offer.decline');
      await r.declineOffer(agentId, conversationId);
      return { ok: true };
    });
    on('agents', async () => {
      const agents = (await r.store.listAgents()).map((a) => ({ id: a.id, name: a.name, status: a.status }));
      return { ok: true, agents: agents.filter((a) => a.id !== agentId) };
    });
    on('conversation', async (p) => {
      const { conversationId } = parse(ConvId, p, 'conversation');
      const conversation = await r.store.getConversation(conversationId);
      if (!conversation || !participants(conversation).includes(agentId)) {
        return {
          ok: false,
          error: { code: 'not_owner', message: `agent ${agentId} is not on conversation ${conversationId}` },
        };
      }
      return { ok: true, view: await conversationView(r.store, conversation, agentId) };
    });

    void this.#hello(socket, agentId).catch(() => socket.disconnect(true));
  }

  async #hello(socket: Socket, agentId: string): Promise<void> {
    const agent = await this.#router.store.getAgent(agentId);
    if (!agent) return void socket.disconnect(true);
    const conversations = await this.#router.store.listAgentConversations(agent.id);
    const views = await Promise.all(
      conversations.map((c) => conversationView(this.#router.store, c, agentId)),
    );
    socket.emit('hello', { agent, conversations: views });
  }

  #to(agentId: string) {
    return this.#nsp.local.to(`agent:${agentId}`);
  }

  /** Whether the agent has a console on this process (else a view for them is not worth building here). */
  #here(agentId: string): boolean {
    return this.#nsp.adapter.rooms.has(`agent:${agentId}`);
  }

  async #onEvent(event: DomainEvent): Promise<void> {
    // No console connected here: nothing to mirror (and no store reads for it).
    if (this.#nsp.sockets.size === 0) return;
    const store = this.#router.store;
    switch (event.type) {
      case 'conversation.assigned':
      case 'conversation.covered': {
        const agentId = event.agentId;
        if (this.#here(agentId))
          this.#to(agentId).emit('assigned', await conversationView(store, event.conversation, agentId));
        this.#updated(event.conversation, [agentId]);
        if (
          event.type === 'conversation.assigned' &&
          event.previousOwnerId &&
          event.previousOwnerId !== agentId
        ) {
          this.#to(event.previousOwnerId).emit('conversation.updated', { conversation: event.conversation });
        }
        break;
      }
      case 'message.received':
      case 'message.sent':
      case 'message.note':
      case 'message.delivery': {
        const conversation = await store.getConversation(event.message.conversationId);
        if (!conversation) return;
        for (const id of participants(conversation)) {
          this.#to(id).emit('message', { conversationId: conversation.id, message: event.message });
        }
        break;
      }
      case 'conversation.consult': {
        if (event.action === 'invited') {
          const from = await store.getAgent(event.by);
          this.#to(event.agentId).emit('consult.invite', {
            conversationId: event.conversation.id,
            from: { id: event.by, name: from?.name ?? event.by },
          });
        }
        this.#updated(event.conversation, [], [event.agentId]);
        break;
      }
      case 'conversation.handoff': {
        if (event.action === 'offered') {
          const from = await store.getAgent(event.from);
          this.#to(event.to).emit('handoff.offer', {
            conversationId: event.conversation.id,
            from: { id: event.from, name: from?.name ?? event.from },
            note: event.note,
          });
        }
        this.#updated(event.conversation, [], [event.from, event.to]);
        break;
      }
      case 'conversation.resolved':
      case 'conversation.updated':
      case 'conversation.waiting_for_owner':
      case 'conversation.offer_expired':
        this.#updated(event.conversation);
        break;
      case 'conversation.offered':
        if (!this.#here(event.agentId)) break;
        this.#to(event.agentId).emit(
          'offer',
          await conversationView(store, event.conversation, event.agentId),
        );
        break;
      case 'typing':
        if (event.who === 'customer') {
          const conversation = await store.getConversation(event.conversationId);
          if (!conversation) return;
          for (const id of participants(conversation)) {
            this.#to(id).emit('typing', { conversationId: event.conversationId, typing: event.typing });
          }
        }
        break;
      case 'customer.facts':
      case 'customer.merged': {
        const customer = await store.getCustomer(event.customerId);
        if (!customer) return;
        const card = {
          id: customer.id,
          name: customer.name,
          facts: customer.facts,
          identities: customer.identities,
          notes: customer.notes,
        };
        const open = await store.openConversationOf(customer.id);
        for (const id of open ? participants(open) : [])
          this.#to(id).emit('customer.updated', { customer: card });
        break;
      }
      case 'agent.status':
      case 'agent.updated': {
        const agent = await store.getAgent(event.agentId);
        if (agent) this.#to(event.agentId).emit('agent', { agent });
        break;
      }
      // An agent's own promises (and follow-ups): reminded before due, told how each one ended.
      case 'promise.reminder':
        if (event.promise.agentId)
          this.#to(event.promise.agentId).emit('promise.reminder', { promise: event.promise });
        break;
      case 'promise.settled':
        if (event.promise.agentId)
          this.#to(event.promise.agentId).emit('promise.updated', { promise: event.promise });
        break;
      default:
        break;
    }
  }

  /** `conversation.updated` to everyone on it, except `skip`, plus `extra`. */
  #updated(conversation: Conversation, skip: string[] = [], extra: string[] = []): void {
    const ids = new Set([...participants(conversation), ...extra]);
    for (const id of ids) if (!skip.includes(id)) this.#to(id).emit('conversation.updated', { conversation });
  }
}
