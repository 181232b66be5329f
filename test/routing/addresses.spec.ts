// Address normalization: one customer per (channel, address).
import { expect } from 'chai';
import {
  identityOf,
  lastAddress,
  normalizeEmail,
  normalizePhone,
  PHONE_CHANNELS,
} from '../../routing/addresses.js';
import { ValidationError } from '../../shared/errors.js';
import type { Message } from '../../shared/model.js';

function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('addresses', () => {
  describe('normalizePhone', () => {
    it('writes every spelling of a number as one E.164 string', () => {
      for (const raw of [
        '+1 (415) 555-0100',
        '4155550100',
        '(415) 555-0100',
        ' 415.555.0100 ',
        '+14155550100',
      ]) {
        expect(normalizePhone(raw)).to.equal('+14155550100');
      }
    });

    it('keeps an international number international, and uses the default country otherwise', () => {
      expect(normalizePhone('+44 20 7946 0958')).to.equal('+442079460958');
      expect(normalizePhone('020 7946 0958', 'GB')).to.equal('+442079460958');
    });

    it('rejects what is not a phone number, naming the field', () => {
      const err = thrown(() => normalizePhone('call me maybe'));
      expect([err.code, err.status, err.field]).to.deep.equal(['invalid_input', 400, 'phone']);
      expect(err.message).to.equal('phone: "call me maybe" is not a phone number');
      expect(thrown(() => normalizePhone('12', 'US', 'from')).field).to.equal('from');
      expect(thrown(() => normalizePhone('')).field).to.equal('phone');
    });
  });

  describe('normalizeEmail', () => {
    it('trims and lower-cases', () => {
      expect(normalizeEmail('  Ana.Diaz@Example.COM ')).to.equal('ana.diaz@example.com');
      expect(normalizeEmail('a+tag@sub.example.org')).to.equal('a+tag@sub.example.org');
    });

    it('rejects what is not an address, naming the field', () => {
      for (const raw of ['ana@', 'ana', 'ana@example', 'a b@example.com', '<ana@example.com>', 'a@b@c.com']) {
        const err = thrown(() => normalizeEmail(raw));
        expect(err.field).to.equal('email');
        expect(err.message).to.equal(`email: "${raw}" is not an email address`);
      }
      expect(thrown(() => normalizeEmail(`${'a'.repeat(320)}@example.com`, 'from')).field).to.equal('from');
    });
  });

  describe('identityOf', () => {
    it('voice and SMS share the phone identity', () => {
      expect(identityOf('voice', '+1 (415) 555-0100')).to.deep.equal({
        channel: 'phone',
        address: '+14155550100',
      });
      expect(identityOf('sms', '4155550100')).to.deep.equal({ channel: 'phone', address: '+14155550100' });
    });

    it('email is lower-cased; chat is the visitor id as given', () => {
      expect(identityOf('email', 'Ana@Example.com')).to.deep.equal({
        channel: 'email',
        address: 'ana@example.com',
      });
      expect(identityOf('chat', ' v_1:abc-2.3 ')).to.deep.equal({ channel: 'chat', address: 'v_1:abc-2.3' });
    });

    it('a bad address names the field "from"', () => {
      expect(thrown(() => identityOf('sms', 'nope')).field).to.equal('from');
      expect(thrown(() => identityOf('email', 'nope')).field).to.equal('from');
      const chat = thrown(() => identityOf('chat', 'has space'));
      expect([chat.field, chat.message]).to.deep.equal(['from', 'from: "has space" is not a visitor id']);
      expect(thrown(() => identityOf('chat', 'x'.repeat(129))).field).to.equal('from');
    });
  });

  describe('lastAddress', () => {
    const message = (
      id: string,
      channel: Message['channel'],
      direction: Message['direction'],
      from?: string,
    ) =>
      ({
        id,
        conversationId: 'cv_1',
        direction,
        channel,
        author: { type: direction === 'in' ? 'customer' : 'agent' },
        text: id,
        attachments: [],
        at: 1,
        delivery: { state: 'delivered', attempts: 0, at: 1 },
        ...(from ? { from } : {}),
      }) as Message;

    it("is where the customer's latest message on those channels came from", () => {
      const messages = [
        message('m1', 'sms', 'in', '+14155550100'),
        message('m2', 'voice', 'in', '+14155550111'),
        message('m3', 'email', 'in', 'dee@example.com'),
        message('m4', 'sms', 'out'),
        message('m5', 'chat', 'in', 'v_1'),
      ];
      expect(lastAddress(messages, PHONE_CHANNELS)).to.equal('+14155550111');
      expect(lastAddress(messages, ['sms'])).to.equal('+14155550100');
      expect(lastAddress(messages, ['email'])).to.equal('dee@example.com');
    });

    it('is null when no message on those channels says (older records have no address)', () => {
      expect(lastAddress([message('m1', 'sms', 'in')], PHONE_CHANNELS)).to.equal(null);
      expect(lastAddress([message('m1', 'email', 'in', 'dee@example.com')], PHONE_CHANNELS)).to.equal(null);
      expect(lastAddress([], ['email'])).to.equal(null);
    });
  });
});
