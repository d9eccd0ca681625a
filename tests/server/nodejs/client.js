// node-postgres against `chaosql serve`: a simple query and a parameterised one, as JSON lines.
const { Client } = require('pg');

async function main() {
  const client = new Client({ connectionString: process.argv[2] });
  await client.connect();
  const simple = await client.query(process.argv[3]);
  console.log(JSON.stringify({ kind: 'simple', rows: simple.rows.map((r) => Object.values(r)) }));
  const param = await client.query({ text: 'SELECT count(*)::INTEGER AS n FROM experiments WHERE kind = $1', values: [process.argv[4]] });
  console.log(JSON.stringify({ kind: 'param', rows: param.rows.map((r) => Object.values(r)) }));
  try {
    await client.query('SELECT * FROM nope');
  } catch (e) {
    console.log(JSON.stringify({ kind: 'error', code: e.code }));
  }
  await client.end();
}
main().catch((e) => { console.error(e); process.exit(1); });
