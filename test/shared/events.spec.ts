import { expect } from 'chai';
import { type DomainEvent, LocalEventBus } from '../../shared/events.js';

const status = (agentId: string): DomainEvent => ({
  type: 'agent.status',
  at: 1,
  agentId,
  status: 'available',
});

describe('LocalEventBus', () => {
  it('delivers each event to every listener, in order', () => {
    const bus = new LocalEventBus();
    const a: string[] = [];
    const b: string[] = [];
    bus.subscribe((e) => a.push(e.type === 'agent.status' ? e.agentId : e.type));
    bus.subscribe((e) => b.push(e.type));
    bus.publish(status('ag_1'));
    bus.publish(status('ag_2'));
    expect(a).to.deep.equal(['ag_1', 'ag_2']);
    expect(b).to.deep.equal(['agent.status', 'agent.status']);
  });

  it('isolates a failing listener: the others still hear it, and the failure is reported', () => {
    const failures: Array<[string, string]> = [];
    const bus = new LocalEventBus((err, event) => failures.push([(err as Error).message, event.type]));
    const heard: string[] = [];
    bus.subscribe(() => {
      throw new Error('listener broke');
    });
    bus.subscribe((e) => heard.push(e.type));
    bus.publish(status('ag_1'));
    expect(heard).to.deep.equal(['agent.status']);
    expect(failures).to.deep.equal([['listener broke', 'agent.status']]);
  });

  it('unsubscribe and close stop delivery', async () => {
    const bus = new LocalEventBus();
    const heard: number[] = [];
    const off = bus.subscribe(() => heard.push(1));
    bus.subscribe(() => heard.push(2));
    bus.publish(status('a'));
    off();
    bus.publish(status('b'));
    await bus.close();
    bus.publish(status('c'));
    expect(heard).to.deep.equal([1, 2, 2]);
  });
});
