// Normalized addresses: one customer per (channel, address).
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { ValidationError } from '../shared/errors.js';
import type { Channel, Customer, Identity, Message } from '../shared/model.js';

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

/** The customer's phone number (their first phone identity, E.164), or null. */
export function phoneOf(customer: Customer | null | undefined): string | null {
  return customer?.identities.find((i) => i.channel === 'phone')?.address ?? null;
}

/** The channels a phone number reaches: a reply to a text or a call goes to the number last used on either. */
export const PHONE_CHANNELS: readonly Channel[] = ['voice', 'sms'];

/**
 * The address the customer's latest message on one of `channels` came from (a conversation's messages, in
 * order), or, before they wrote, the one the agent who started the conversation wrote to (`to`), or null: where
 * a reply on those channels goes, though the customer may have other addresses.
 */
export function lastAddress(messages: readonly Message[], channels: readonly Channel[]): string | null {
  const last = messages.findLast(
    (m) =>
      channels.includes(m.channel) &&
      ((m.direction === 'in' && m.from !== undefined) || (m.direction === 'out' && m.to !== undefined)),
  );
  return last?.from ?? last?.to ?? null;
}

/**
 * A number a person typed (an agent writing to a customer first), in E.164: `region`'s when it has no country
 * code. Stricter than `normalizePhone`: a number that no country dials, such as one written without its
 * country code for another country than `region` ("0612345678" read as a US number), is refused naming the field.
 */
export function dialledNumber(raw: string, region: CountryCode, field: string): string {
  const parsed = parsePhoneNumberFromString(raw.trim(), region);
  if (!parsed?.isValid()) {
    throw new ValidationError(
      `${field}: "${raw}" is not a phone number${raw.trim().startsWith('+') ? '' : ` in ${region}: give it with its country code (+…)`}`,
      field,
    );
  }
  return parsed.number;
}

/** E.164, or a ValidationError naming the field. */
export function normalizePhone(raw: string, defaultCountry: CountryCode = 'US', field = 'phone'): string {
  const parsed = parsePhoneNumberFromString(raw.trim(), defaultCountry);
  if (!parsed?.isPossible()) throw new ValidationError(`${field}: "${raw}" is not a phone number`, field);
  return parsed.number;
}

export function normalizeEmail(raw: string, field = 'email'): string {
  const email = raw.trim().toLowerCase();
  if (!EMAIL.test(email) || email.length > 320)
    throw new ValidationError(`${field}: "${raw}" is not an email address`, field);
  return email;
}

/** A customer known only by calls whose number they withheld: nobody to call, text or block. */
export function withheldOnly(customer: { identities: readonly Identity[] }): boolean {
  return customer.identities.length > 0 && customer.identities.every((i) => i.channel === 'call');
}

/** The identity of a call whose caller withheld their number: the call's id (Twilio's CallSid). */
export function withheldCall(callSid: string, field = 'from'): Identity {
  const id = callSid.trim();
  if (!/^[A-Za-z0-9]{2,64}$/.test(id))
    throw new ValidationError(`${field}: "${callSid}" is not a call id`, field);
  return { channel: 'call', address: id };
}

/** The identity a contact comes from: its address on its channel, or its call when the number was withheld. */
export function contactIdentity(c: {
  channel: Channel;
  from: string;
  withheld?: true | undefined;
}): Identity {
  return c.withheld ? withheldCall(c.from) : identityOf(c.channel, c.from);
}

/** `identityOf`, or null when `from` is no address on `channel`: for a look-up, which finds nobody then. */
export function identityIfAny(channel: Channel, from: string): Identity | null {
  try {
    return identityOf(channel, from);
  } catch {
    return null;
  }
}

/**
 * The identity a contact on `channel` from `from` belongs to (or that a message written to `from` reaches); a
 * ValidationError naming `field` when it is not one.
 */
export function identityOf(
  channel: Channel,
  from: string,
  defaultCountry?: CountryCode,
  field = 'from',
): Identity {
  switch (channel) {
    case 'voice':
    case 'sms':
      // Voice and SMS share the number: the same phone is one identity.
      return { channel: 'phone', address: normalizePhone(from, defaultCountry, field) };
    case 'email':
      return { channel: 'email', address: normalizeEmail(from, field) };
    case 'chat': {
      const id = from.trim();
      if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id))
        throw new ValidationError(`${field}: "${from}" is not a visitor id`, field);
      return { channel: 'chat', address: id };
    }
  }
}
