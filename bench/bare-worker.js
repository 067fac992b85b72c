// The baseline for `npm run bench`: the least a Worker can do with a call-ended event
// (read the body, answer 202). The relay's figures are read against this one's, measured on
// the same machine in the same run, so what remains is the relay's own cost.

export default {
  async fetch(request) {
    // Reading the body matters: an unread upload is cheaper, and the relay always reads it.
    await request.arrayBuffer();
    return new Response('{"status":"accepted"}', {
      status: 202,
      headers: { "content-type": "application/json" },
    });
  },
};
