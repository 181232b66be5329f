// What Slack sends, as far as the console reads it, parsed with zod (unknown
// keys are dropped; a payload that does not fit is ignored, never trusted).
import { z } from 'zod';

const SlackId = z.string().min(1).max(64);
const Ts = z.string().regex(/^\d{1,12}\.\d{1,9}$/, 'a Slack timestamp');

/** The Events API envelope (`event_callback`). */
export const EventEnvelope = z.object({
  type: z.literal('event_callback'),
  event_id: z.string().min(1).max(128),
  team_id: z.string().max(64).optional(),
  event: z.object({ type: z.string() }).loose(),
});

/** The message an edit or a deletion is about: who wrote it, and where. */
const ChangedMessage = z.object({
  user: SlackId.optional(),
  ts: Ts,
  thread_ts: Ts.optional(),
  bot_id: z.string().max(64).optional(),
});

export const MessageEvent = z.object({
  type: z.literal('message'),
  channel: SlackId,
  user: SlackId.optional(),
  text: z.string().max(100_000).optional(),
  ts: Ts,
  thread_ts: Ts.optional(),
  subtype: z.string().max(64).optional(),
  bot_id: z.string().max(64).optional(),
  channel_type: z.string().max(32).optional(),
  /** Files shared with the message (`file_share`): read from Slack and sent on with the reply (files.ts). */
  files: z
    .array(
      z.object({
        name: z.string().max(1000).optional(),
        title: z.string().max(1000).optional(),
        mimetype: z.string().max(200).optional(),
        size: z.number().int().nonnegative().optional(),
        url_private: z.string().max(2000).optional(),
        url_private_download: z.string().max(2000).optional(),
      }),
    )
    .max(100)
    .optional(),
  /** An edit (`message_changed`): the message as it stands now. */
  message: ChangedMessage.optional(),
  /** A deletion (`message_deleted`): the message as it was. */
  previous_message: ChangedMessage.optional(),
});
export type MessageEvent = z.infer<typeof MessageEvent>;

export const AppHomeOpened = z.object({
  type: z.literal('app_home_opened'),
  user: SlackId,
  tab: z.string().max(32).optional(),
});

export const BlockAction = z.object({
  type: z.string().max(64),
  action_id: z.string().min(1).max(255),
  block_id: z.string().max(255).optional(),
  value: z.string().max(2000).optional(),
  selected_user: SlackId.optional(),
  /** A select's pick (static, or searchable: external). */
  selected_option: z.object({ value: z.string().max(150) }).optional(),
});

export const BlockActions = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: SlackId }),
  trigger_id: z.string().max(255).optional(),
  container: z
    .object({
      type: z.string().max(32),
      message_ts: Ts.optional(),
      channel_id: SlackId.optional(),
      thread_ts: Ts.optional(),
    })
    .optional(),
  channel: z.object({ id: SlackId }).optional(),
  message: z.object({ ts: Ts, thread_ts: Ts.optional() }).optional(),
  actions: z.array(BlockAction).min(1).max(25),
});
export type BlockActions = z.infer<typeof BlockActions>;

/**
 * An options request (`block_suggestion`): what the agent typed in a searchable select (`value`), which select
 * (`action_id`; in a form, the form's `callback_id`), and who.
 */
export const BlockSuggestion = z.object({
  type: z.literal('block_suggestion'),
  user: z.object({ id: SlackId }),
  action_id: z.string().min(1).max(255),
  block_id: z.string().max(255).optional(),
  value: z.string().max(2000),
  view: z
    .object({ callback_id: z.string().max(255).optional() })
    .loose()
    .optional(),
});
export type BlockSuggestion = z.infer<typeof BlockSuggestion>;

const StateValue = z.object({
  type: z.string().max(64),
  value: z.string().max(5000).nullable().optional(),
  selected_user: SlackId.nullable().optional(),
  // Unix seconds, within what a date can hold (a larger one failed deep in the work, said to nobody).
  selected_date_time: z.number().int().min(0).max(8_640_000_000_000).nullable().optional(),
  selected_option: z
    .object({ value: z.string().max(100) })
    .nullable()
    .optional(),
});

export const ViewSubmission = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: SlackId }),
  view: z.object({
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3000),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), StateValue)) }),
  }),
});
export type ViewSubmission = z.infer<typeof ViewSubmission>;

/** The most a slash command's text may hold. */
export const COMMAND_TEXT_MAX = 4000;

export const SlashCommand = z.object({
  command: z.string().max(64),
  text: z.string().max(COMMAND_TEXT_MAX).default(''),
  user_id: SlackId,
  channel_id: SlackId.optional(),
  response_url: z.string().url().max(2000).optional(),
});
export type SlashCommand = z.infer<typeof SlashCommand>;

/** `auth.test`: who the app is in the workspace. */
export const AuthTest = z.object({
  ok: z.literal(true),
  url: z.string().max(500).optional(),
  team: z.string().max(200).optional(),
  team_id: z.string().max(64).optional(),
  user_id: SlackId,
  bot_id: SlackId,
});
export type AuthTest = z.infer<typeof AuthTest>;

export const Posted = z.object({ channel: SlackId.optional(), ts: Ts });

export const Opened = z.object({ channel: z.object({ id: SlackId }) });

/** A page of a thread (`conversations.replies`): who wrote each message, and the files it shares. */
export const Replies = z.object({
  messages: z.array(
    z
      .object({
        ts: Ts,
        user: SlackId.optional(),
        bot_id: SlackId.optional(),
        files: z
          .array(z.object({ id: SlackId }))
          .max(100)
          .optional(),
      })
      .loose(),
  ),
  response_metadata: z.object({ next_cursor: z.string().max(500).optional() }).optional(),
});
