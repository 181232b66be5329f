// What a promise that must fail rejected with; a promise that resolves fails the test.
export async function rejection<E = Error>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected the promise to reject');
}
