// The proxy worker a page starts for an OPFS store (pkg/proxy/page.js): an entry that holds
// nothing but the import of its worker side (./worker-side.js). WebKit evaluates a module
// worker's entry a second time when another module imports it, and a bundler's chunks do
// (Vite's json, structured and watch chunks imported what they share from the worker's entry
// chunk): a second Server then answered the page's requests too, and calls hung. An entry
// with no code of its own shares nothing. Messages that arrive while the worker side loads
// are kept and handed to it, in order.
const early = [];
const keep = (event) => early.push(event);
self.addEventListener('message', keep);
import('./worker-side.js').then(
  ({ servePage }) => {
    self.removeEventListener('message', keep);
    servePage(early);
  },
  (err) => {
    // Thrown in a task of its own, it is an error event of the page's Worker (as a failed
    // static import was), which fails the page's calls.
    setTimeout(() => {
      throw err;
    });
  },
);
