// Reads an X12 file with node-x12 in strict mode (envelope counts and control numbers checked) and prints
// every transaction's segments as JSON, so .NET tests can check a file with a parser they did not write.
const fs = require('fs');
const { X12Parser } = require('node-x12');

const edi = fs.readFileSync(process.argv[2], 'utf8');
try {
  const interchange = new X12Parser(true).parse(edi);
  const transactions = interchange.functionalGroups.flatMap(group => group.transactions.map(t => ({
    code: t.header.valueOf(1),
    control: t.header.valueOf(2),
    segments: [t.header, ...t.segments, t.trailer].map(s => ({
      tag: s.tag,
      elements: s.elements.map(e => e.value)
    }))
  })));
  console.log(JSON.stringify({ ok: true, groups: interchange.functionalGroups.length, transactions }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: error.message }));
  process.exit(1);
}
