// The routing policy: zod-validated values with defaults, loaded from env or a file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { defaultPolicy, fillText, loadPolicy, parsePolicy, TEXT_CAP } from '../../routing/policy.js';
import { ValidationError } from '../../shared/errors.js';

function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('routing policy', () => {
  describe('defaults', () => {
    it('has the documented values', () => {
      expect(defaultPolicy()).to.deep.equal({
        stickyWaitSeconds: { voice: 0, sms: 600, chat: 120, email: 14_400 },
        wrapUpSeconds: 120,
        wrapUpMaxSeconds: 600,
        preferLastOwnerForSeconds: 604_800,
        overflowAfterSeconds: 120,
        phoneRegion: 'US',
        agingStepSeconds: 60,
        hardCapSeconds: 600,
        offerTimeoutSeconds: { voice: 20 },
        liveChannels: ['voice'],
        quotePercentile: 0.9,
        defaultHandleSeconds: { voice: 300, sms: 600, chat: 480, email: 3600 },
        atRiskLeadFraction: 0.2,
        atRiskMinLeadSeconds: 30,
        atRiskMaxNotices: 2,
        promiseReminderSeconds: 900,
        followUpGraceSeconds: 3600,
        surveys: true,
        surveyDelaySeconds: 600,
        surveyAnswerSeconds: 172_800,
        surveyLowRating: 2,
        repeatWindowSeconds: 604_800,
        rejoinSeconds: 600,
        consoleAwaySeconds: 60,
        unseenChatEmailSeconds: 300,
        savedReplies: [],
        serviceLevel: { targetSeconds: { voice: 20, sms: 120, chat: 30, email: 3600 }, goal: 0.8 },
        entryPoints: [],
        locale: 'en',
        callerVoice: {},
        texts: {
          greeting: 'Thanks for reaching us.',
          waitNotice: 'You are number {position} in line; a person will be with you within {wait}.',
          noEstimate: 'Everyone is busy right now; a person will answer as soon as one is free.',
          closed:
            'We are closed right now and open again {opens}; a person will answer then. You keep your place.',
          nobodyWorking:
            'Nobody is working right now; a person will answer as soon as someone is back. You keep your place.',
          nobodyFree:
            'Nobody can answer right now; a person will answer as soon as someone is back. You keep your place.',
          hold: 'Please hold; you keep your place.',
          placeKept: 'You keep the place in line you had before.',
          callbackOffer: 'Press 1 for a call back; you keep your place.',
          callbackConfirm: 'We will call you back at this number when it is your turn; you keep your place.',
          callbackConfirmed:
            'We will call you back at the number ending in {digits}, {when}; you keep your place.',
          callbackWithin: 'within about {wait}',
          callbackWhenOpen: 'when we are open',
          callbackWhenBack: 'when someone is back',
          callbackStands:
            'We still owe you a call back: stay on the line, or hang up and we will call you back when it is your turn.',
          callbackFailed:
            'We tried to call you back but could not reach you. Reply to this text or call us again; your conversation stays open.',
          callUnavailable: 'Sorry, we cannot take your call right now; please call again in a few minutes.',
          puttingThrough: 'Putting you through to {agent} now.',
          closedCall: 'We are closed right now and open again {opens}.',
          nobodyWorkingCall: 'Nobody is working right now.',
          closedCallbackOffer:
            'Press 1 and we will call you back when we are open; otherwise this call will end.',
          nobodyCallbackOffer:
            'Press 1 and we will call you back when someone is back; otherwise this call will end.',
          closedGoodbye: 'Thank you for calling; please call again when we are open.',
          nobodyGoodbye: 'Thank you for calling; please call again a little later.',
          ownerAway:
            '{owner} is away right now. If they are not back within {wait}, your message goes to the next free colleague.',
          ownerOffline:
            '{owner} is not available right now. In about {wait}, your message goes to the next free colleague.',
          atRisk: 'Sorry, this is taking longer than we said. A person will be with you within {wait}.',
          atRiskNoEstimate:
            'Sorry, this is taking longer than we said. Everyone is still busy; a person will answer as soon as one is free.',
          atRiskNobodyFree:
            'Sorry, this is taking longer than we said. Nobody can answer right now; a person will answer as soon as someone is back.',
          callbackOwed:
            'We still owe you a call back, within {wait}; you keep your place, and the person who calls will have read this.',
          callbackAtRisk: 'Sorry, our call back is running late. We will call you within {wait}.',
          otherApp:
            'Sorry, we cannot answer {app} messages here. Please send us a text message (SMS) or call this number.',
          survey: 'How did we do? Reply with 1-5 (5 is best), then one thing we should fix.',
          surveyThanks: 'Thank you. We read every answer.',
          unseenChat:
            'You left our chat before our answer reached you, so here it is. Reply to this email to carry on, or come back to the chat.',
          transcript: 'Here is our conversation, as you asked. Reply to this email to carry on.',
          you: 'You',
          ourTeam: 'Our team',
          chatSubject: 'Your chat with {team}',
        },
        // Word for word what the chat widget said before its words came from the policy.
        widgetTexts: {
          title: 'Chat with us',
          open: 'Open chat',
          openUnread: 'Open chat (new message)',
          close: 'Close chat',
          emailChat: 'Email me this chat',
          attach: 'Attach a file',
          messages: 'Messages',
          message: 'Message',
          placeholder: 'Write a message…',
          send: 'Send',
          empty: 'Hi! Write us a message and a person will answer.',
          reconnecting: 'Connection lost. Reconnecting…',
          you: 'You',
          support: 'Support',
          picture: 'picture',
          file: 'file',
          spokenFile: 'File: {name}',
          newMessage: 'New message.',
          typing: '{name} is typing…',
          someone: 'Someone',
          sending: 'Sending {name}…',
          fileNotSent: '{name} was not sent: {why}.',
          fileTooLarge: 'the file is larger than {max}',
          tooManyFiles: 'at most {max} files an hour; try again in a while',
          noFiles: 'this chat does not take files',
          fileUnavailable: 'we are briefly unavailable. Please try again in a moment',
          notConnected: 'Not connected yet. Please try again in a moment.',
          tooFast: 'too many messages; wait {wait} and try again',
          unavailable: 'Chat is unavailable right now; please retry.',
          tooLong:
            'Your message is too long: {count} characters, at most {max}. Please shorten it or send it in parts.',
          messageSending: 'Sending…',
          notSent: 'Your message was not sent: {why}.',
          notSentClosed: 'Your message was not sent: this conversation is closed.',
          notSentUnavailable:
            'Your message was not sent: we are briefly unavailable. Please send it again in a moment.',
          afresh:
            'This chat could not be continued, so it starts afresh: write again and a person will answer.',
          emailed: 'We sent this chat to {to}.',
          emailedAlready: 'This chat went to {to} a moment ago.',
          emailFirst: 'Give us your email address below, then press the envelope again.',
          failed: 'That did not work. Please try again.',
          checkDetails: 'Please check what you entered.',
          prechat: 'So we know who we are talking to (optional):',
          name: 'Name',
          email: 'Email',
          phone: 'Phone',
          continue: 'Continue',
          skip: 'Skip',
          prechatLater: 'Add your {fields} (optional)',
          nameWord: 'name',
          emailWord: 'email',
          phoneWord: 'phone',
          inLine: 'You are in line.',
          inLineAt: 'You are number {position} in line.',
          placeKept: 'You keep the place in line you had before.',
          answerWithin: 'A person will answer within about {wait}.',
          answerWhenFree: 'A person will answer as soon as one is free.',
          nobodyFree: 'Nobody can answer right now; a person will answer as soon as someone is back.',
          nobodyWorking: 'Nobody is working right now; a person will answer as soon as someone is back.',
          closed: 'We are closed right now and open again {opens}; a person will answer then.',
          opensIn: 'in about {wait}',
          chatting: "You're chatting with {agent}",
          someoneOfUs: 'a member of our team',
          ownerAway: '{owner} is away right now.',
          ownerOffline: '{owner} is not available right now.',
          handOverAway: 'If they are not back within {wait}, your message goes to the next free colleague.',
          handOverOffline: 'In about {wait}, your message goes to the next free colleague.',
          inLineForColleague: 'You are number {position} in line for a colleague.',
          resolved: 'This conversation is closed. Write again any time.',
          resolvedBlocked: 'This conversation is closed.',
        },
      });
      expect(parsePolicy(undefined)).to.deep.equal(defaultPolicy());
      expect(parsePolicy(null)).to.deep.equal(defaultPolicy());
    });

    it('fills what a partial policy leaves out, per channel and per text', () => {
      const p = parsePolicy({ stickyWaitSeconds: { sms: 30 }, texts: { greeting: 'Hi!' } });
      expect(p.stickyWaitSeconds).to.deep.equal({ voice: 0, sms: 30, chat: 120, email: 14_400 });
      expect(p.texts.greeting).to.equal('Hi!');
      expect(p.texts.hold).to.equal('Please hold; you keep your place.');
      expect(p.overflowAfterSeconds).to.equal(120);
    });

    it('an explicit offerTimeoutSeconds replaces the voice default', () => {
      expect(parsePolicy({ offerTimeoutSeconds: { chat: 30 } }).offerTimeoutSeconds).to.deep.equal({
        chat: 30,
      });
    });
  });

  describe('validation', () => {
    it('entry points: numbers and addresses read as routing reads them; a topic is for chat, `to` for the rest', () => {
      const p = parsePolicy({
        entryPoints: [
          { channel: 'voice', to: '(415) 555-0100', skills: { spanish: 1 }, priority: 2 },
          { channel: 'email', to: 'Billing@Example.com', skills: { billing: 1 } },
          { channel: 'chat', topic: 'billing', skills: { billing: 1 } },
          { channel: 'sms' },
        ],
      });
      expect(p.entryPoints).to.deep.equal([
        { channel: 'voice', to: '+14155550100', skills: { spanish: 1 }, priority: 2 },
        { channel: 'email', to: 'billing@example.com', skills: { billing: 1 }, priority: 0 },
        { channel: 'chat', topic: 'billing', skills: { billing: 1 }, priority: 0 },
        { channel: 'sms', skills: {}, priority: 0 },
      ]);
      expect(thrown(() => parsePolicy({ entryPoints: [{ channel: 'voice', topic: 'x' }] })).field).to.equal(
        'entryPoints.0.topic',
      );
      expect(thrown(() => parsePolicy({ entryPoints: [{ channel: 'chat', to: 'x' }] })).field).to.equal(
        'entryPoints.0.to',
      );
      expect(
        thrown(() => parsePolicy({ entryPoints: [{ channel: 'sms' }, { channel: 'email', to: 'nobody' }] }))
          .field,
      ).to.equal('entryPoints.1.to');
      expect(thrown(() => parsePolicy({ entryPoints: [{ channel: 'chat', topic: 'a b' }] })).field).to.equal(
        'entryPoints.0.topic',
      );
      expect(thrown(() => parsePolicy({ entryPoints: [{ channel: 'chat', skils: {} }] })).field).to.equal(
        'entryPoints.0.skils',
      );
    });

    it('a greeting over 200 characters is rejected naming the field', () => {
      expect(TEXT_CAP).to.equal(200);
      const err = thrown(() => parsePolicy({ texts: { greeting: 'x'.repeat(201) } }));
      expect([err.code, err.status, err.field]).to.deep.equal(['invalid_input', 400, 'texts.greeting']);
      expect(err.message).to.equal('routing policy: texts.greeting: must be at most 200 characters');
      expect(parsePolicy({ texts: { greeting: 'x'.repeat(200) } }).texts.greeting.length).to.equal(200);
    });

    it('a hold text over 200 characters is rejected naming the field', () => {
      const err = thrown(() => parsePolicy({ texts: { hold: 'y'.repeat(250) } }));
      expect(err.field).to.equal('texts.hold');
    });

    it('an empty text is rejected', () => {
      expect(thrown(() => parsePolicy({ texts: { waitNotice: '' } })).field).to.equal('texts.waitNotice');
    });

    it('saved replies: trimmed; an empty, too long or repeated name (any case) or text is rejected naming it', () => {
      const replies = [
        { name: ' Refund sent ', text: 'Your refund is on its way: 3 to 5 working days.\n' },
        { name: 'Address', text: 'Could you confirm the delivery address?' },
      ];
      expect(parsePolicy({ savedReplies: replies }).savedReplies).to.deep.equal([
        { name: 'Refund sent', text: 'Your refund is on its way: 3 to 5 working days.' },
        { name: 'Address', text: 'Could you confirm the delivery address?' },
      ]);
      const twice = thrown(() =>
        parsePolicy({ savedReplies: [...replies, { name: 'refund SENT', text: 'x' }] }),
      );
      expect(twice.field).to.equal('savedReplies.2.name');
      expect(twice.message).to.equal(
        'routing policy: savedReplies.2.name: refund SENT names another saved reply already',
      );
      expect(thrown(() => parsePolicy({ savedReplies: [{ name: '  ', text: 'x' }] })).field).to.equal(
        'savedReplies.0.name',
      );
      expect(
        thrown(() => parsePolicy({ savedReplies: [{ name: 'n'.repeat(61), text: 'x' }] })).message,
      ).to.equal('routing policy: savedReplies.0.name: must be at most 60 characters');
      expect(thrown(() => parsePolicy({ savedReplies: [{ name: 'Empty', text: '' }] })).field).to.equal(
        'savedReplies.0.text',
      );
      expect(
        thrown(() => parsePolicy({ savedReplies: [{ name: 'Long', text: 'x'.repeat(4001) }] })).field,
      ).to.equal('savedReplies.0.text');
      const many = Array.from({ length: 101 }, (_, i) => ({ name: `r${i}`, text: 'x' }));
      expect(thrown(() => parsePolicy({ savedReplies: many })).field).to.equal('savedReplies');
    });

    it('hardCapSeconds below overflowAfterSeconds is rejected naming hardCapSeconds', () => {
      const err = thrown(() => parsePolicy({ overflowAfterSeconds: 300, hardCapSeconds: 299 }));
      expect(err.field).to.equal('hardCapSeconds');
      expect(err.message).to.equal('routing policy: hardCapSeconds: must be at least overflowAfterSeconds');
      expect(parsePolicy({ overflowAfterSeconds: 300, hardCapSeconds: 300 }).hardCapSeconds).to.equal(300);
      // Against the default overflow (120 s) too.
      expect(thrown(() => parsePolicy({ hardCapSeconds: 60 })).field).to.equal('hardCapSeconds');
    });

    it('retentionDays: absent by default (kept until erased on request); whole days from 1 to 3650, else refused naming it', () => {
      expect(defaultPolicy().retentionDays).to.equal(undefined);
      expect(parsePolicy({ retentionDays: 365 }).retentionDays).to.equal(365);
      for (const bad of [0, 1.5, 3651, '30']) {
        expect(thrown(() => parsePolicy({ retentionDays: bad })).field, String(bad)).to.equal(
          'retentionDays',
        );
      }
    });

    it('phoneRegion: US unless given; a country Switchboard cannot dial is refused naming it', () => {
      expect(parsePolicy({ phoneRegion: 'FR' }).phoneRegion).to.equal('FR');
      for (const bad of ['fr', 'XX', 'France', 33]) {
        const err = thrown(() => parsePolicy({ phoneRegion: bad }));
        expect([err.field, err.message], String(bad)).to.deep.equal([
          'phoneRegion',
          'routing policy: phoneRegion: must be a country as two capital letters (ISO 3166: US, GB, DE, …)',
        ]);
      }
    });

    it('rejects a mean quote percentile, negative times and unknown channels, naming each field', () => {
      expect(thrown(() => parsePolicy({ quotePercentile: 0.5 })).field).to.equal('quotePercentile');
      expect(thrown(() => parsePolicy({ quotePercentile: 1 })).field).to.equal('quotePercentile');
      expect(thrown(() => parsePolicy({ stickyWaitSeconds: { chat: -1 } })).field).to.equal(
        'stickyWaitSeconds.chat',
      );
      expect(thrown(() => parsePolicy({ agingStepSeconds: 'soon' })).field).to.equal('agingStepSeconds');
      expect(thrown(() => parsePolicy({ liveChannels: ['fax'] })).field).to.equal('liveChannels.0');
    });

    it('promise, survey and repeat settings: texts capped, fractions and ratings in range, naming each field', () => {
      for (const key of [
        'atRisk',
        'atRiskNoEstimate',
        'atRiskNobodyFree',
        'callbackAtRisk',
        'survey',
        'surveyThanks',
      ]) {
        const err = thrown(() => parsePolicy({ texts: { [key]: 'z'.repeat(201) } }));
        expect([err.field, err.message]).to.deep.equal([
          `texts.${key}`,
          `routing policy: texts.${key}: must be at most 200 characters`,
        ]);
      }
      expect(thrown(() => parsePolicy({ atRiskLeadFraction: 1 })).field).to.equal('atRiskLeadFraction');
      expect(thrown(() => parsePolicy({ atRiskLeadFraction: 0 })).field).to.equal('atRiskLeadFraction');
      expect(thrown(() => parsePolicy({ atRiskMaxNotices: 11 })).field).to.equal('atRiskMaxNotices');
      expect(thrown(() => parsePolicy({ surveyLowRating: 5 })).field).to.equal('surveyLowRating');
      expect(thrown(() => parsePolicy({ surveyLowRating: 1.5 })).field).to.equal('surveyLowRating');
      expect(thrown(() => parsePolicy({ surveys: 'yes' })).field).to.equal('surveys');
      for (const key of [
        'atRiskMinLeadSeconds',
        'promiseReminderSeconds',
        'followUpGraceSeconds',
        'surveyDelaySeconds',
        'surveyAnswerSeconds',
        'repeatWindowSeconds',
        'rejoinSeconds',
        'wrapUpSeconds',
        'wrapUpMaxSeconds',
      ]) {
        expect(thrown(() => parsePolicy({ [key]: -1 })).field).to.equal(key);
      }
      const p = parsePolicy({ surveys: false, surveyLowRating: 0, texts: { survey: 'Rate us 1-5.' } });
      expect([p.surveys, p.surveyLowRating, p.texts.survey, p.texts.surveyThanks]).to.deep.equal([
        false,
        0,
        'Rate us 1-5.',
        'Thank you. We read every answer.',
      ]);
    });
  });

  describe('loadPolicy', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sb-policy-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('is the defaults when neither variable is set, or one is empty', () => {
      expect(loadPolicy({})).to.deep.equal(defaultPolicy());
      expect(loadPolicy({ ROUTING_POLICY: '  ' })).to.deep.equal(defaultPolicy());
    });

    it('reads inline JSON from ROUTING_POLICY', () => {
      const p = loadPolicy({
        ROUTING_POLICY: '{"overflowAfterSeconds": 30, "stickyWaitSeconds": {"chat": 45}}',
      });
      expect(p.overflowAfterSeconds).to.equal(30);
      expect(p.stickyWaitSeconds).to.deep.equal({ voice: 0, sms: 600, chat: 45, email: 14_400 });
    });

    it('reads a JSON file from ROUTING_POLICY_FILE', () => {
      const file = join(dir, 'policy.json');
      writeFileSync(file, JSON.stringify({ agingStepSeconds: 30, texts: { greeting: 'Hello.' } }));
      const p = loadPolicy({ ROUTING_POLICY_FILE: file });
      expect(p.agingStepSeconds).to.equal(30);
      expect(p.texts.greeting).to.equal('Hello.');
    });

    it('refuses both at once', () => {
      const err = thrown(() =>
        loadPolicy({ ROUTING_POLICY: '{}', ROUTING_POLICY_FILE: join(dir, 'p.json') }),
      );
      expect(err.field).to.equal('ROUTING_POLICY');
      expect(err.message).to.equal('set ROUTING_POLICY_FILE or ROUTING_POLICY, not both');
    });

    it('names the variable when the JSON is broken or the file is missing', () => {
      const inline = thrown(() => loadPolicy({ ROUTING_POLICY: '{overflow: 1' }));
      expect(inline.field).to.equal('ROUTING_POLICY');
      expect(inline.message.startsWith('ROUTING_POLICY: not valid JSON: ')).to.equal(true);

      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"a":');
      const fromFile = thrown(() => loadPolicy({ ROUTING_POLICY_FILE: broken }));
      expect(fromFile.field).to.equal('ROUTING_POLICY_FILE');
      expect(fromFile.message.startsWith(`ROUTING_POLICY_FILE (${broken}): not valid JSON: `)).to.equal(true);

      const missing = join(dir, 'missing.json');
      const absent = thrown(() => loadPolicy({ ROUTING_POLICY_FILE: missing }));
      expect(absent.field).to.equal('ROUTING_POLICY_FILE');
      expect(absent.message.startsWith(`ROUTING_POLICY_FILE (${missing}): cannot read: `)).to.equal(true);
    });

    it('names the policy field, and where it came from, when a value is invalid', () => {
      const file = join(dir, 'policy.json');
      writeFileSync(file, JSON.stringify({ texts: { greeting: 'z'.repeat(201) } }));
      const err = thrown(() => loadPolicy({ ROUTING_POLICY_FILE: file }));
      expect(err.field).to.equal('texts.greeting');
      expect(err.message).to.equal(
        `ROUTING_POLICY_FILE (${file}): texts.greeting: must be at most 200 characters`,
      );
      const inline = thrown(() => loadPolicy({ ROUTING_POLICY: '{"hardCapSeconds": 10}' }));
      expect([inline.field, inline.message]).to.deep.equal([
        'hardCapSeconds',
        'ROUTING_POLICY: hardCapSeconds: must be at least overflowAfterSeconds',
      ]);
    });
  });

  describe('fillText', () => {
    it('fills the placeholders it knows and leaves the others', () => {
      expect(
        fillText('You are number {position} in line; within {wait}.', { position: 3, wait: '5 minutes' }),
      ).to.equal('You are number 3 in line; within 5 minutes.');
      expect(fillText('Hi {name}, number {position}', { position: 1 })).to.equal('Hi {name}, number 1');
    });

    it('keeps a filled text under the cap', () => {
      const out = fillText('{x} tail', { x: 'a'.repeat(300) });
      expect(out.length).to.equal(200);
      expect(out).to.equal(`${'a'.repeat(199)}…`);
    });
  });
});
