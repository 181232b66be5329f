// The admin API under /api: bearer token, JSON in and out, zod-validated bodies.
import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { OriginalLinks } from '../channels/email/original.js';
import { agentConversations } from '../channels/team.js';
import { consoleAgent } from '../channels/web/namespace.js';
import { identityIfAny } from '../routing/addresses.js';
import { AgentPatch, NewAgent, type Router, type WriteToInput } from '../routing/router.js';
import {
  ForbiddenError,
  NotFoundError,
  parseInput,
  SwitchboardError,
  UnauthorizedError,
  ValidationError,
} from '../shared/errors.js';
import { AgentStatus, ConversationStatus, type Customer } from '../shared/model.js';
import { agentToken, type TokenSigner } from '../shared/tokens.js';
import type { FiguresCache } from './figures.js';
import type { LiveCache } from './live.js';

export interface ApiOptions {
  router: Router;
  tokens: TokenSigner;
  adminToken: string;
  figures: FiguresCache;
  live: LiveCache;
  /** Links to inbound mail as received: `original` on each inbound email message (with the email channel). */
  originals?: OriginalLinks;
}

/** `POST /api/conversations/:id/handoff`: to whom, and the note for them. */
const HandoffBody = z.strictObject({ toAgentId: z.string().min(1).max(100), note: z.string().max(1500) });

/** `POST /api/conversations`: the agent who writes, and what `writeTo` takes (it checks the rest). */
const WriteBody = z.object({ agentId: z.string().min(1).max(100) }).passthrough();

/** `POST /api/conversations/:id/call`: the agent (its owner, or the colleague covering it) whose phone rings. */
const CallBody = z.strictObject({ agentId: z.string().min(1).max(128) });
/** More time for after-call work: `agentId`, when given, must be its owner (an integration acting for them). */
const WrapUpBody = z.strictObject({ agentId: z.string().min(1).max(128).optional() });
const StatusBody = z.strictObject({ status: AgentStatus, reason: z.string().max(200).optional() });
const MergeBody = z.strictObject({ otherCustomerId: z.string().min(1).max(128) });
/** The router checks the reason itself (`reason`); here only the body's shape. */
const BlockBody = z.strictObject({ reason: z.string().default('') });
/** The router checks the list itself (names `savedReplies.<i>.<field>`); here only the body's shape. */
const SavedRepliesBody = z.strictObject({ savedReplies: z.unknown() });
/** Who has this phone number, email address or chat visitor id: exactly one of them. */
const FindQuery = z
  .strictObject({
    phone: z.string().min(1).max(64).optional(),
    email: z.string().min(1).max(320).optional(),
    visitor: z.string().min(1).max(128).optional(),
  })
  .refine((q) => Object.keys(q).length === 1, {
    message: 'give one of phone, email or visitor',
  });
/** Per parameter: the channel whose identity it is, and what it must be. */
const FIND_BY = {
  phone: { channel: 'sms', what: 'a phone number' },
  email: { channel: 'email', what: 'an email address' },
  visitor: { channel: 'chat', what: 'a visitor id' },
} as const;
const ListQuery = z.strictObject({
  status: ConversationStatus.optional(),
  /** The conversations this agent owns (or owned). */
  agent: z.string().min(1).max(128).optional(),
  /** The page before this conversation (the `next` of the previous page). */
  before: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
/** The agent list: the team (the default), or with `left=true` those who left it. */
const AgentsQuery = z.strictObject({
  left: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
});
/** Who is blocked: the latest `limit`, as a conversation list's page. */
const BlockedQuery = z.strictObject({ limit: ListQuery.shape.limit });

/** Who calls: the admin (ADMIN_TOKEN), or a team lead by their console link (`LEAD_ROUTES` only). */
export type Viewer = { role: 'admin' } | { role: 'lead'; id: string; name: string };

/**
 * What a team lead may do: read the team's live view and what an agent is on, set an agent's status, offer an
 * agent's conversation to a colleague, see and lift blocks.
 */
const LEAD_ROUTES: ReadonlyArray<[string, RegExp]> = [
  ['GET', /^\/live$/],
  ['PUT', /^\/agents\/[^/]+\/status$/],
  ['GET', /^\/agents\/[^/]+\/conversations$/],
  ['GET', /^\/customers\/blocked$/],
  ['DELETE', /^\/customers\/[^/]+\/block$/],
  ['POST', /^\/conversations\/[^/]+\/handoff$/],
];

/** A route of an express router, as its stack holds it (express 5's `router` package). */
interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  match(path: string): boolean;
}

/** The methods the routes of `router` that match `path` take (a 405's Allow), in upper case. */
function methodsOf(router: express.Router, path: string): string[] {
  const methods = new Set<string>();
  for (const layer of (router as unknown as { stack: RouteLayer[] }).stack) {
    if (!layer.route || typeof layer.match !== 'function' || !layer.match(path)) continue;
    for (const [method, on] of Object.entries(layer.route.methods))
      if (on && method !== '_all') methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

export function adminApi(options: ApiOptions): express.Router {
  const { router, tokens, adminToken, figures, live } = options;
  const originals = options.originals ?? null;
  const api = express.Router();
  const expected = Buffer.from(adminToken);
  api.use(async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const given = Buffer.from(token);
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      res.locals.viewer = { role: 'admin' } satisfies Viewer;
      return next();
    }
    // A team lead's console link: the team's live view and what it does, nothing else.
    const signed = token ? await consoleAgent(tokens, router.store, token) : null;
    const agent = signed ? await router.store.getAgent(signed.agentId) : null;
    if (!agent) return next(new UnauthorizedError('Authorization: Bearer <ADMIN_TOKEN> is required'));
    if (!agent.lead) {
      return next(
        new ForbiddenError("an agent's console link opens the team's live view only for a team lead"),
      );
    }
    // HEAD is a GET without its body: a lead may ask it of what they may read.
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (!LEAD_ROUTES.some(([m, path]) => method === m && path.test(req.path))) {
      return next(
        new ForbiddenError(
          "a team lead's console link opens the team's live view; this needs the admin token",
        ),
      );
    }
    res.locals.viewer = { role: 'lead', id: agent.id, name: agent.name } satisfies Viewer;
    next();
  });
  api.use(express.json({ limit: '64kb' }));
  // A body that is not JSON (a form, plain text) would reach the routes as no body at all, and be refused
  // for its first field: said as what it is instead.
  api.use((req: Request, _res: Response, next: NextFunction) => {
    const length = req.get('content-length');
    const body = req.get('transfer-encoding') !== undefined || (length !== undefined && Number(length) > 0);
    if (body && !req.is('application/json')) {
      return next(
        new SwitchboardError(
          'unsupported_media_type',
          `the body must be JSON, sent with Content-Type: application/json (it came as ${req.get('content-type') ?? 'no Content-Type'})`,
          415,
        ),
      );
    }
    next();
  });

  const store = router.store;
  const withConversations = async (customer: Customer) => ({
    customer,
    conversations: await store.listConversations({ customerId: customer.id }),
  });
  const agentOr404 = async (id: string) => {
    const agent = await store.getAgent(id);
    if (!agent) throw new NotFoundError('agent', id);
    return agent;
  };

  api.post('/agents', async (req, res) => {
    const agent = await router.createAgent(parseInput(NewAgent, req.body, 'agent'));
    res.status(201).json({ agent, token: agentToken(tokens, agent) });
  });
  // A new console link for the agent; every earlier one stops working, and consoles open on one are closed.
  api.post('/agents/:id/token', async (req, res) => {
    await agentOr404(req.params.id!);
    const agent = await router.renewAgentToken(req.params.id!);
    res.json({ agent, token: agentToken(tokens, agent) });
  });
  // The team; `?left=true`: those who left it.
  api.get('/agents', async (req, res) => {
    const { left } = parseInput(AgentsQuery, req.query, 'query');
    res.json({ agents: (await store.listAgents()).filter((a) => (a.leftAt !== undefined) === left) });
  });
  // An agent leaves the team: their record stays (names in history), everything else goes (router `leaveTeam`).
  api.delete('/agents/:id', async (req, res) => {
    res.json({ agent: await router.leaveTeam(req.params.id!) });
  });
  api.get('/agents/:id', async (req, res) => {
    res.json({ agent: await agentOr404(req.params.id!) });
  });
  api.patch('/agents/:id', async (req, res) => {
    await agentOr404(req.params.id!);
    res.json({ agent: await router.updateAgent(req.params.id!, parseInput(AgentPatch, req.body, 'agent')) });
  });
  // What an agent is on now, and who of their customers waits for an answer (the team view's drill-down).
  api.get('/agents/:id/conversations', async (req, res) => {
    const agent = await agentOr404(req.params.id!);
    res.json({
      agent: { id: agent.id, name: agent.name },
      conversations: await agentConversations(store, agent, router.clock.now()),
    });
  });
  api.put('/agents/:id/status', async (req, res) => {
    await agentOr404(req.params.id!);
    const body = parseInput(StatusBody, req.body, 'status change');
    // A lead's change says who made it ("set from the team view by Grace").
    const viewer = res.locals.viewer as Viewer;
    const reason =
      viewer.role !== 'lead'
        ? body.reason
        : (body.reason ? `${body.reason} by ${viewer.name}` : `set by ${viewer.name}`).slice(0, 200);
    res.json({ agent: await router.setAgentStatus(req.params.id!, body.status, reason) });
  });

  // Newest first in pages: the `limit` newest (oldest first within the page), then `?before=<next>` for the
  // page before, until a page comes without `next`.
  api.get('/conversations', async (req, res) => {
    const q = parseInput(ListQuery, req.query, 'query');
    let createdBefore: { at: number; id: string } | undefined;
    if (q.before !== undefined) {
      const from = await store.getConversation(q.before);
      if (!from) throw new ValidationError(`before: no conversation ${q.before}`, 'before');
      createdBefore = { at: from.createdAt, id: from.id };
    }
    if (q.agent) await agentOr404(q.agent);
    const conversations = await store.listConversations({
      ...(q.status ? { status: q.status } : {}),
      ...(q.agent ? { ownerId: q.agent } : {}),
      ...(createdBefore ? { createdBefore } : {}),
      limit: q.limit,
    });
    res.json({
      conversations,
      ...(conversations.length === q.limit ? { next: conversations[0]!.id } : {}),
    });
  });
  api.get('/conversations/:id', async (req, res) => {
    const conversation = await store.getConversation(req.params.id!);
    if (!conversation) throw new NotFoundError('conversation', req.params.id!);
    const [messages, promises, customer, wrapUp] = await Promise.all([
      store.listMessages(conversation.id),
      store.listPromises(conversation.id),
      store.getCustomer(conversation.customerId),
      router.wrapUp(conversation),
    ]);
    res.json({
      conversation,
      ownership: conversation.ownership,
      messages: originals ? await originals.show(messages) : messages,
      promises,
      customer,
      wrapUpUntil: wrapUp?.dueAt ?? null,
    });
  });

  // More time for its owner's after-call work (Router `extendWrapUp`): the admin, or an integration for the owner.
  api.post('/conversations/:id/wrapup', async (req, res) => {
    const { agentId } = parseInput(WrapUpBody, req.body ?? {}, 'wrapup');
    const { conversation, wrapUp } = await router.extendWrapUp(agentId ?? null, req.params.id!);
    res.json({ conversation, wrapUpUntil: wrapUp.dueAt });
  });

  api.get('/customers', async (req, res) => {
    // Exactly one parameter (FindQuery).
    const [field, value] = Object.entries(parseInput(FindQuery, req.query, 'query'))[0] as [
      keyof typeof FIND_BY,
      string,
    ];
    const identity = identityIfAny(FIND_BY[field].channel, value);
    // Said of the parameter the caller gave.
    if (!identity) throw new ValidationError(`${field}: "${value}" is not ${FIND_BY[field].what}`, field);
    const customer = await store.findCustomer(identity);
    if (!customer) throw new NotFoundError('customer', `${identity.channel}:${identity.address}`);
    res.json(await withConversations(customer));
  });
  api.get('/customers/blocked', async (req, res) => {
    const { limit } = parseInput(BlockedQuery, req.query, 'query');
    res.json({ customers: await store.listBlockedCustomers(limit) });
  });
  api.get('/customers/:id', async (req, res) => {
    const customer = await store.getCustomer(req.params.id!);
    if (!customer) throw new NotFoundError('customer', req.params.id!);
    res.json(await withConversations(customer));
  });
  api.post('/customers/:id/merge', async (req, res) => {
    const body = parseInput(MergeBody, req.body, 'merge');
    res.json({ customer: await router.mergeCustomers(req.params.id!, body.otherCustomerId) });
  });

  api.post('/customers/:id/block', async (req, res) => {
    const body = parseInput(BlockBody, req.body ?? {}, 'block');
    res.json(await router.blockCustomer(req.params.id!, 'admin', body.reason));
  });
  api.delete('/customers/:id/block', async (req, res) => {
    const viewer = res.locals.viewer as Viewer;
    res.json({
      customer: await router.unblockCustomer(req.params.id!, viewer.role === 'lead' ? viewer.id : 'admin'),
    });
  });

  // A person's right of access: everything kept about them, as one JSON file.
  api.get('/customers/:id/export', async (req, res) => {
    const customer = await store.getCustomer(req.params.id!);
    if (!customer) throw new NotFoundError('customer', req.params.id!);
    const conversations = await store.listConversations({ customerId: customer.id, limit: 0 });
    const exported = {
      exportedAt: new Date(router.clock.now()).toISOString(),
      customer,
      conversations: await Promise.all(
        conversations.map(async (conversation) => {
          const [messages, promises] = await Promise.all([
            store.listMessages(conversation.id),
            store.listPromises(conversation.id),
          ]);
          return { conversation, messages, promises };
        }),
      ),
    };
    res.attachment(`switchboard-customer-${customer.id}.json`);
    res.json(exported);
  });
  // A person's right to be forgotten: their open conversations close, then everything about them goes, the
  // files and mail kept beside the store too (Router `eraseCustomer`).
  api.delete('/customers/:id', async (req, res) => {
    const customer = await store.getCustomer(req.params.id!);
    if (!customer) throw new NotFoundError('customer', req.params.id!);
    const erased = await router.eraseCustomer(customer.id, 'admin');
    res.json({
      erased: {
        customerIds: erased.customerIds,
        conversationIds: erased.conversationIds,
        messages: erased.messages.length,
        files: erased.files,
      },
      closed: erased.closed,
    });
  });

  // A lead or the admin offers an agent's conversation to a colleague in the owner's stead (the team view).
  api.post('/conversations/:id/handoff', async (req, res) => {
    const { toAgentId, note } = parseInput(HandoffBody, req.body, 'handoff');
    const viewer = res.locals.viewer as Viewer;
    const by = viewer.role === 'lead' ? viewer.name : 'the admin';
    res.json({ conversation: await router.handoffFor(by, req.params.id!, toAgentId, note) });
  });

  // An agent writes to a customer first (Router `writeTo`): for integrations (a shop's "text the customer").
  api.post('/conversations', async (req, res) => {
    const { agentId, ...input } = parseInput(WriteBody, req.body, 'write');
    const wrote = await router.writeTo(agentId, input as WriteToInput);
    res.status(wrote.duplicate ? 200 : 201).json(wrote);
  });

  // The agent's phone rings, then the customer's (Router `callCustomer`): for integrations, as the consoles do.
  api.post('/conversations/:id/call', async (req, res) => {
    const { agentId } = parseInput(CallBody, req.body, 'call');
    const { to, message } = await router.callCustomer(agentId, req.params.id!);
    res.status(202).json({ to, message });
  });

  api.get('/stats', async (_req, res) => {
    res.json(await figures.get());
  });
  api.get('/live', async (_req, res) => {
    res.json({ ...(await live.get()), viewer: res.locals.viewer as Viewer });
  });
  api.get('/saved-replies', async (_req, res) => {
    res.json(await router.savedRepliesFrom());
  });
  api.put('/saved-replies', async (req, res) => {
    const body = parseInput(SavedRepliesBody, req.body, 'saved replies');
    res.json({ savedReplies: await router.setSavedReplies(body.savedReplies), from: 'api' });
  });

  // A path the API has, asked with a method it does not take: 405 with the ones it does; else 404.
  api.use((req, res, next) => {
    const allowed = methodsOf(api, req.path);
    if (allowed.length === 0)
      return next(new SwitchboardError('not_found', `no route ${req.method} ${req.path}`, 404));
    res.set('Allow', allowed.join(', '));
    next(
      new SwitchboardError(
        'method_not_allowed',
        `${req.method} ${req.path}: this path takes ${allowed.join(', ')}`,
        405,
      ),
    );
  });
  return api;
}
