import { expect } from 'chai';
import { Contact, meetsSkills, Skills, zeroPerChannel } from '../../shared/model.js';

describe('model', () => {
  describe('meetsSkills', () => {
    it('needs every required skill at least at its level', () => {
      expect(meetsSkills({ billing: 3, spanish: 1 }, { billing: 3 })).to.equal(true);
      expect(meetsSkills({ billing: 2 }, { billing: 3 })).to.equal(false);
      expect(meetsSkills({ billing: 5 }, { billing: 1, spanish: 1 })).to.equal(false);
      expect(meetsSkills({}, {})).to.equal(true);
      // Level 0 still needs the skill to be listed.
      expect(meetsSkills({}, { triage: 0 })).to.equal(false);
      expect(meetsSkills({ triage: 0 }, { triage: 0 })).to.equal(true);
    });
  });

  it('skill names are letters, digits, _ . -', () => {
    expect(Skills.safeParse({ 'tier-1.billing_us': 4 }).success).to.equal(true);
    const bad = Skills.safeParse({ 'has space': 1 });
    expect(bad.success).to.equal(false);
    expect(Skills.safeParse({ billing: 11 }).success).to.equal(false);
  });

  it('a contact gets its defaults: empty text, no attachments', () => {
    const c = Contact.parse({ channel: 'sms', from: '+14155550100', externalId: 'SM1' });
    expect([c.text, c.attachments]).to.deep.equal(['', []]);
  });

  it('zeroPerChannel is a fresh zero per channel', () => {
    const a = zeroPerChannel();
    a.chat = 2;
    expect(zeroPerChannel()).to.deep.equal({ voice: 0, sms: 0, chat: 0, email: 0 });
  });

  it('a contact from any channel loses the characters nobody types: in its text, subject, name and file names', () => {
    const c = Contact.parse({
      channel: 'email',
      from: 'eve@example.com',
      externalId: '<m1@example.com>',
      text: 'Pay\u0000 now\u001B[31m\r\n\u0627\u0644\u062F\u0641\u0639',
      subject: 'Invoice \u2067overdue\u2069',
      name: 'Eve\u202D',
      attachments: [{ name: 'invoice\u202Efdp.exe', type: 'application/octet-stream', size: 3 }],
    });
    expect(c.text).to.equal('Pay now[31m\r\n\u0627\u0644\u062F\u0641\u0639');
    expect(c.subject).to.equal('Invoice overdue');
    expect(c.name).to.equal('Eve');
    expect(c.attachments[0]!.name).to.equal('invoicefdp.exe');
  });
});
