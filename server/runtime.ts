// How Node.js runs the server: the flags `npm start`, the Dockerfile, the
// benchmarks and the multi-process tests all start it with.
//
// --max-semi-space-size=64: a young generation of 64 MB semi-spaces instead of
// V8's default 16 MB. Routing allocates a few kilobytes per decision, and with
// a large store in memory each scavenge has a lot of old space to look through
// (the pointers from stored records to new ones): at 100,000 waiting
// conversations a scavenge took about 5 ms every 230 decisions. With 64 MB they
// come about a quarter as often and take two to three times as long, so GC time
// per decision about halves, for up to 144 MB more memory (V8 sizes the young
// generation at three semi-spaces: 192 MB instead of 48 MB).
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
