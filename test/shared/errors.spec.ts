import { expect } from 'chai';
import { z } from 'zod';
import {
  CapacityError,
  ConflictError,
  CorruptRecordError,
  fromZod,
  IdentityTakenError,
  InvalidStateError,
  NotFoundError,
  NotOwnerError,
  RateLimitedError,
  STORE_UNAVAILABLE,
  StoreUnavailableError,
  SwitchboardError,
  UnauthorizedError,
  ValidationError,
} from '../../shared/errors.js';

describe('errors', () => {
  it('each class carries a stable code and HTTP status', () => {
    const table: Array<[SwitchboardError, string, number, string]> = [
      [new NotFoundError('agent', 'ag_1'), 'not_found', 404, 'NotFoundError'],
      [new ValidationError('bad', 'x'), 'invalid_input', 400, 'ValidationError'],
      [new ConflictError('duplicate_id', 'twice'), 'duplicate_id', 409, 'ConflictError'],
      [new NotOwnerError('ag_1', 'cv_1', 'reply to'), 'not_owner', 403, 'NotOwnerError'],
      [new IdentityTakenError('phone:+1', 'cu_1'), 'identity_taken', 409, 'IdentityTakenError'],
      [new InvalidStateError('no'), 'invalid_state', 409, 'InvalidStateError'],
      [new CapacityError('ag_1', 'full'), 'no_capacity', 409, 'CapacityError'],
      [new UnauthorizedError(), 'unauthorized', 401, 'UnauthorizedError'],
      [new RateLimitedError('slow down'), 'rate_limited', 429, 'RateLimitedError'],
      [new CorruptRecordError('k', 'bad json'), 'corrupt_record', 500, 'CorruptRecordError'],
      [new StoreUnavailableError('down'), 'store_unavailable', 503, 'StoreUnavailableError'],
    ];
    for (const [err, code, status, name] of table) {
      expect([err.code, err.status, err.name]).to.deep.equal([code, status, name]);
      expect(err).to.be.instanceOf(SwitchboardError);
      expect(err).to.be.instanceOf(Error);
    }
  });

  it('messages name the entity and the operation', () => {
    expect(new NotFoundError('conversation', 'cv_9').message).to.equal('conversation cv_9 does not exist');
    expect(new NotOwnerError('ag_1', 'cv_1', 'resolve').message).to.equal(
      'agent ag_1 may not resolve conversation cv_1: not its owner',
    );
    expect(new CapacityError('ag_2', 'no chat capacity left').message).to.equal(
      'agent ag_2: no chat capacity left',
    );
    expect(new IdentityTakenError('email:a@b.c', 'cu_3').message).to.equal(
      'identity email:a@b.c already belongs to customer cu_3',
    );
    expect(new UnauthorizedError().message).to.equal('a valid token is required');
    expect(new StoreUnavailableError('ECONNREFUSED').message).to.equal(
      'the store is unavailable: ECONNREFUSED',
    );
    expect(new CorruptRecordError('{sb}:cv:1', 'not JSON').message).to.equal(
      'stored record {sb}:cv:1 is unreadable: not JSON',
    );
  });

  it('toJSON carries code and message, and the field when there is one', () => {
    expect(new ValidationError('text must not be empty', 'text').toJSON()).to.deep.equal({
      code: 'invalid_input',
      message: 'text must not be empty',
      field: 'text',
    });
    expect(new NotFoundError('agent', 'ag_1').toJSON()).to.deep.equal({
      code: 'not_found',
      message: 'agent ag_1 does not exist',
    });
    expect(JSON.parse(JSON.stringify(new InvalidStateError('x')))).to.deep.equal({
      code: 'invalid_state',
      message: 'x',
    });
  });

  it('a failure on our side reaches clients with a fixed message; its detail stays in `message` for the log', () => {
    const down = new StoreUnavailableError('GET {sb:x}:conv:cv_1: connect ECONNREFUSED 127.0.0.1:6392');
    expect(down.toJSON()).to.deep.equal({ code: 'store_unavailable', message: STORE_UNAVAILABLE });
    expect(down.message).to.contain('ECONNREFUSED 127.0.0.1:6392');
    const corrupt = new CorruptRecordError('{sb:x}:conv:cv_1', 'not valid JSON');
    expect(JSON.parse(JSON.stringify(corrupt))).to.deep.equal({
      code: 'corrupt_record',
      message: 'a stored record could not be read; the server log names it',
    });
    expect(corrupt.message).to.contain('{sb:x}:conv:cv_1');
    // Any other failure on our side too, with a general line.
    expect(
      new SwitchboardError('internal', 'redis.call failed at line 12 of resolve', 500).toJSON(),
    ).to.deep.equal({
      code: 'internal',
      message: 'something went wrong on our side; please retry',
    });
  });

  describe('fromZod', () => {
    it('names the first bad field by its path', () => {
      const schema = z.object({
        texts: z.object({ greeting: z.string().max(3, 'too long') }),
        n: z.number(),
      });
      const result = schema.safeParse({ texts: { greeting: 'hello' }, n: 'x' });
      expect(result.success).to.equal(false);
      if (result.success) return;
      const err = fromZod(result.error, 'policy');
      expect(err).to.be.instanceOf(ValidationError);
      expect([err.field, err.message]).to.deep.equal(['texts.greeting', 'policy: texts.greeting: too long']);
    });

    it('array indexes are part of the path; a root issue has no field', () => {
      const arr = z.array(z.number()).safeParse([1, 'two']);
      if (arr.success) throw new Error('expected failure');
      expect(fromZod(arr.error).field).to.equal('1');
      const root = z.number().safeParse('x');
      if (root.success) throw new Error('expected failure');
      const err = fromZod(root.error, 'count');
      expect(err.field).to.equal(undefined);
      expect(err.message.startsWith('count: ')).to.equal(true);
    });

    it('with no issues still gives a ValidationError', () => {
      const err = fromZod({ issues: [] }, 'body');
      expect([err.code, err.message, err.field]).to.deep.equal([
        'invalid_input',
        'body is invalid',
        undefined,
      ]);
    });
  });
});
