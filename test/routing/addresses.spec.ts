// Address normalization: one customer per (channel, address).
import { expect } from 'chai';
import { identityOf, normalizeEmail, normalizePhone } from '../../routing/addresses.js';
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
});
