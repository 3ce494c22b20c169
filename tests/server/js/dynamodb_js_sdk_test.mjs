// The AWS SDK for JavaScript v3 (@aws-sdk/client-dynamodb, @aws-sdk/client-dynamodb-streams)
// as a real client of tidewaterd: the calls an application makes and the error shapes the SDK
// must parse, against a server with --auth off (the loopback default) and one with
// --auth required and a --credentials-file, where wrong, unknown and expired credentials
// must get DynamoDB's exact errors.
//
//   TIDEWATERD=build/server/tidewaterd NODE_PATH=build-tools/node_modules \
//     node tests/server/js/dynamodb_js_sdk_test.mjs
//
// TIDEWATERD: the server binary; each suite starts one on a free loopback port with a
// temporary data directory and stops it at the end (also on failure). The SDK packages are
// found through NODE_PATH, else in the repository's build-tools/ (scripts/common.sh,
// install_aws_sdk_js). TIDEWATER_KEEP_DATA=1 keeps the data directories and server logs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REGION = 'us-east-1';
const STATE_TIMEOUT_MS = 60_000;

// No shared config or credentials file of the machine running the test changes the clients.
process.env.AWS_CONFIG_FILE = '/dev/null';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
delete process.env.AWS_PROFILE;

function loadSdk() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const buildTools = path.resolve(here, '../../../build-tools/package.json');
  for (const base of [import.meta.url, buildTools]) {
    const require = createRequire(base);
    try {
      return {
        ddb: require('@aws-sdk/client-dynamodb'),
        streams: require('@aws-sdk/client-dynamodb-streams'),
      };
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  throw new Error('@aws-sdk/client-dynamodb not found: set NODE_PATH, or run ' +
                  '`bash -c "source scripts/common.sh; install_aws_sdk_js"`');
}
const { ddb, streams } = loadSdk();

const BINARY = process.env.TIDEWATERD;
if (!BINARY) throw new Error('set TIDEWATERD to the tidewaterd binary');

// The credentials the server is given (--credentials-file) when it checks signatures.
const ALICE = { accessKeyId: 'TWJSSDKALICE00000001', secretAccessKey: 'alice-secret-0123456789' };
const TEMPORARY = {
  accessKeyId: 'TWJSSDKTEMPORARY0002',
  secretAccessKey: 'temporary-secret-0123456789',
  sessionToken: 'temporary-session-token-0123456789',
};
const EXPIRED = {
  accessKeyId: 'TWJSSDKEXPIRED000003',
  secretAccessKey: 'expired-secret-0123456789',
  sessionToken: 'expired-session-token-0123456789',
};
const CREDENTIALS_FILE = `credentials:
  - access_key_id: ${ALICE.accessKeyId}
    secret_access_key: ${ALICE.secretAccessKey}
    principal: alice
  - access_key_id: ${TEMPORARY.accessKeyId}
    secret_access_key: ${TEMPORARY.secretAccessKey}
    principal: bob
    session_token: ${TEMPORARY.sessionToken}
    expires: 2099-12-31T00:00:00Z
  - access_key_id: ${EXPIRED.accessKeyId}
    secret_access_key: ${EXPIRED.secretAccessKey}
    principal: carol
    session_token: ${EXPIRED.sessionToken}
    expires: 2020-01-01T00:00:00Z
`;

// DynamoDB's messages.
const INVALID_SIGNATURE_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check ' +
  'your AWS Secret Access Key and signing method. Consult the service documentation for ' +
  'details.';
const UNRECOGNIZED_CLIENT_MESSAGE = 'The security token included in the request is invalid.';
const EXPIRED_TOKEN_MESSAGE = 'The security token included in the request is expired';

function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One tidewaterd child process with its own data directory and log file.
class Tidewaterd {
  constructor(extraArgs) {
    this.extraArgs = extraArgs;
    this.workdir = mkdtempSync(path.join(os.tmpdir(), 'tw-js-sdk-'));
    this.logPath = path.join(this.workdir, 'tidewaterd.log');
    this.child = null;
    this.exited = null;
  }

  async start() {
    this.port = await freeLoopbackPort();
    this.endpoint = `http://127.0.0.1:${this.port}`;
    const args = ['--data-dir', path.join(this.workdir, 'data'),
                  '--listen', `127.0.0.1:${this.port}`, '--region', REGION, ...this.extraArgs];
    const log = openSync(this.logPath, 'a');
    this.child = spawn(BINARY, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) =>
      resolve(signal ?? code)));
    // Killed with the test process however it ends (a failed assertion, a CTest timeout's
    // SIGTERM, an uncaught error).
    process.once('exit', () => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return;
      this.child.kill('SIGKILL');
      if (!process.env.TIDEWATER_KEEP_DATA) rmSync(this.workdir, { recursive: true, force: true });
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`tidewaterd exited during startup (${this.child.signalCode ??
                        `status ${this.child.exitCode}`}):\n${this.logTail()}`);
      }
      try {
        const response = await fetch(`${this.endpoint}/healthz`,
                                     { signal: AbortSignal.timeout(1000) });
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    await this.stop();
    throw new Error(`tidewaterd did not answer GET /healthz with 200 in 20 s:\n${this.logTail()}`);
  }

  logTail() {
    try {
      return readFileSync(this.logPath, 'utf8').slice(-4000);
    } catch {
      return '(no log)';
    }
  }

  async stop() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      let timer;
      const timeout = new Promise((resolve) => { timer = setTimeout(resolve, 10_000, 'timeout'); });
      const stopped = await Promise.race([this.exited, timeout]);
      clearTimeout(timer);
      if (stopped === 'timeout') {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    if (process.env.TIDEWATER_KEEP_DATA) {
      console.log(`tidewaterd data and log kept in ${this.workdir}`);
    } else {
      rmSync(this.workdir, { recursive: true, force: true });
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(128 + os.constants.signals[signal]));
}

// Clients never retry: every error is seen as the server returned it.
function dynamodb(server, credentials) {
  return new ddb.DynamoDBClient({ endpoint: server.endpoint, region: REGION, credentials,
                                  maxAttempts: 1 });
}
function dynamodbStreams(server, credentials) {
  return new streams.DynamoDBStreamsClient({ endpoint: server.endpoint, region: REGION,
                                             credentials, maxAttempts: 1 });
}

// Runs `call`, which must fail with the modeled or unmodeled error `name` (and `message`
// when given); returns the error.
async function rejectsWith(call, name, message) {
  let error;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected ${name}, the call succeeded`);
  assert.equal(error.name, name, `expected ${name}, got ${error.name}: ${error.message}`);
  if (message !== undefined) assert.equal(error.message, message);
  assert.equal(error.$metadata?.httpStatusCode, 400);
  assert.equal(error.$fault, 'client');
  assert.ok(error.$metadata.requestId, 'the SDK reads the request id of an error');
  return error;
}

const key = (sk) => ({ pk: { S: 'user#1' }, sk: { N: String(sk) } });

// Every record of the table's stream: all shards, each read from TRIM_HORIZON to its current
// end, polled until `expected` records are there (or the state timeout passes).
async function readStream(client, streamArn, expected) {
  const deadline = Date.now() + STATE_TIMEOUT_MS;
  for (;;) {
    const shards = [];
    let exclusiveStartShardId;
    do {
      const { StreamDescription } = await client.send(new streams.DescribeStreamCommand(
        { StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }));
      shards.push(...StreamDescription.Shards);
      exclusiveStartShardId = StreamDescription.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    const byShard = new Map();
    for (const shard of shards) {
      const { ShardIterator } = await client.send(new streams.GetShardIteratorCommand(
        { StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
      const records = [];
      let iterator = ShardIterator;
      while (iterator) {
        const page = await client.send(new streams.GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...page.Records);
        // An open shard always has a next iterator: stop at its current end.
        iterator = page.Records.length > 0 ? page.NextShardIterator : undefined;
      }
      byShard.set(shard.ShardId, records);
    }
    const total = [...byShard.values()].reduce((n, records) => n + records.length, 0);
    if (total >= expected || Date.now() > deadline) return byShard;
    await sleep(200);
  }
}

// The calls an application makes, with `credentials` (accepted by the server).
function applicationTests(server, credentials) {
  const tableName = `js-sdk-${process.pid}-${Date.now()}`;
  let client;
  let streamsClient;
  let streamArn;

  before(() => {
    client = dynamodb(server(), credentials);
    streamsClient = dynamodbStreams(server(), credentials);
  });
  after(() => {
    client?.destroy();
    streamsClient?.destroy();
  });

  test('CreateTable with a stream, then waitUntilTableExists', async () => {
    const created = await client.send(new ddb.CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' },
                             { AttributeName: 'sk', AttributeType: 'N' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' },
                  { AttributeName: 'sk', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }));
    assert.equal(created.TableDescription.TableName, tableName);
    assert.ok(created.TableDescription.CreationDateTime instanceof Date);
    const waited = await ddb.waitUntilTableExists(
      { client, maxWaitTime: STATE_TIMEOUT_MS / 1000, minDelay: 1, maxDelay: 2 },
      { TableName: tableName });
    assert.equal(waited.state, 'SUCCESS');
    const { Table } = await client.send(new ddb.DescribeTableCommand({ TableName: tableName }));
    assert.equal(Table.TableStatus, 'ACTIVE');
    assert.equal(Table.StreamSpecification.StreamViewType, 'NEW_AND_OLD_IMAGES');
    assert.ok(Table.LatestStreamArn);
    streamArn = Table.LatestStreamArn;
  });

  test('PutItem and GetItem', async () => {
    await client.send(new ddb.PutItemCommand({
      TableName: tableName,
      Item: { ...key(1), name: { S: 'Ada' }, visits: { N: '0' }, obsolete: { BOOL: true },
              blob: { B: Uint8Array.from([0, 1, 2, 255]) } },
    }));
    const { Item } = await client.send(new ddb.GetItemCommand(
      { TableName: tableName, Key: key(1), ConsistentRead: true }));
    assert.deepEqual(Item, { ...key(1), name: { S: 'Ada' }, visits: { N: '0' },
                             obsolete: { BOOL: true },
                             blob: { B: Uint8Array.from([0, 1, 2, 255]) } });
    const missing = await client.send(new ddb.GetItemCommand(
      { TableName: tableName, Key: key(99), ConsistentRead: true }));
    assert.equal(missing.Item, undefined);
  });

  test('UpdateItem with an update expression, ReturnValues ALL_NEW', async () => {
    const { Attributes } = await client.send(new ddb.UpdateItemCommand({
      TableName: tableName,
      Key: key(1),
      UpdateExpression: 'SET #n = :n, visits = visits + :one ADD tags :t REMOVE obsolete',
      ConditionExpression: 'attribute_exists(pk) AND visits = :zero',
      ExpressionAttributeNames: { '#n': 'name' },
      ExpressionAttributeValues: { ':n': { S: 'Ada Lovelace' }, ':one': { N: '1' },
                                   ':zero': { N: '0' }, ':t': { SS: ['math', 'poetry'] } },
      ReturnValues: 'ALL_NEW',
    }));
    assert.equal(Attributes.name.S, 'Ada Lovelace');
    assert.equal(Attributes.visits.N, '1');
    assert.deepEqual([...Attributes.tags.SS].sort(), ['math', 'poetry']);
    assert.equal(Attributes.obsolete, undefined);
  });

  test('a failing condition: ConditionalCheckFailedException with the old item', async () => {
    const error = await rejectsWith(() => client.send(new ddb.PutItemCommand({
      TableName: tableName,
      Item: { ...key(1), name: { S: 'overwritten' } },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    })), 'ConditionalCheckFailedException');
    assert.ok(error instanceof ddb.ConditionalCheckFailedException);
    assert.equal(error.Item?.name?.S, 'Ada Lovelace');
    const { Item } = await client.send(new ddb.GetItemCommand(
      { TableName: tableName, Key: key(1), ConsistentRead: true }));
    assert.equal(Item.name.S, 'Ada Lovelace');
  });

  test('BatchWriteItem', async () => {
    const { UnprocessedItems } = await client.send(new ddb.BatchWriteItemCommand({
      RequestItems: {
        [tableName]: [
          { PutRequest: { Item: { ...key(2), name: { S: 'Grace' }, visits: { N: '5' } } } },
          { PutRequest: { Item: { ...key(3), name: { S: 'Edsger' }, visits: { N: '7' } } } },
        ],
      },
    }));
    assert.deepEqual(UnprocessedItems ?? {}, {});
  });

  test('TransactWriteItems, and a cancelled one with its reasons', async () => {
    await client.send(new ddb.TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: tableName, Item: { ...key(4), name: { S: 'Barbara' } },
                 ConditionExpression: 'attribute_not_exists(pk)' } },
        { Update: { TableName: tableName, Key: key(2), UpdateExpression: 'SET visits = :v',
                    ExpressionAttributeValues: { ':v': { N: '6' } } } },
        { ConditionCheck: { TableName: tableName, Key: key(3),
                            ConditionExpression: 'attribute_exists(pk)' } },
      ],
    }));
    const error = await rejectsWith(() => client.send(new ddb.TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: tableName, Item: { ...key(5), name: { S: 'never' } } } },
        { ConditionCheck: { TableName: tableName, Key: key(3),
                            ConditionExpression: 'visits = :v',
                            ExpressionAttributeValues: { ':v': { N: '100' } } } },
      ],
    })), 'TransactionCanceledException');
    assert.ok(error instanceof ddb.TransactionCanceledException);
    assert.deepEqual(error.CancellationReasons.map((reason) => reason.Code),
                     ['None', 'ConditionalCheckFailed']);
    const { Item } = await client.send(new ddb.GetItemCommand(
      { TableName: tableName, Key: key(5), ConsistentRead: true }));
    assert.equal(Item, undefined);
  });

  test('Query, in both orders and through the SDK paginator', async () => {
    const query = {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': { S: 'user#1' }, ':lo': { N: '1' }, ':hi': { N: '4' } },
      ConsistentRead: true,
    };
    const forward = await client.send(new ddb.QueryCommand(query));
    assert.equal(forward.Count, 4);
    assert.deepEqual(forward.Items.map((item) => item.sk.N), ['1', '2', '3', '4']);
    assert.equal(forward.Items[1].visits.N, '6');
    const backward = await client.send(new ddb.QueryCommand(
      { ...query, ScanIndexForward: false, FilterExpression: 'visits > :five',
        ExpressionAttributeValues: { ...query.ExpressionAttributeValues, ':five': { N: '5' } } }));
    assert.deepEqual(backward.Items.map((item) => item.sk.N), ['3', '2']);
    assert.equal(backward.ScannedCount, 4);
    const pages = [];
    for await (const page of ddb.paginateQuery({ client, pageSize: 3 }, query)) {
      pages.push(page.Items.map((item) => item.sk.N));
    }
    assert.deepEqual(pages.flat(), ['1', '2', '3', '4']);
    assert.ok(pages.length >= 2, `paged in ${pages.length} pages`);
  });

  test('DeleteItem with ReturnValues ALL_OLD', async () => {
    const { Attributes } = await client.send(new ddb.DeleteItemCommand(
      { TableName: tableName, Key: key(1), ReturnValues: 'ALL_OLD' }));
    assert.equal(Attributes.name.S, 'Ada Lovelace');
    const { Item } = await client.send(new ddb.GetItemCommand(
      { TableName: tableName, Key: key(1), ConsistentRead: true }));
    assert.equal(Item, undefined);
  });

  test('ResourceNotFoundException from DynamoDB and DynamoDB Streams', async () => {
    const error = await rejectsWith(() => client.send(new ddb.GetItemCommand(
      { TableName: `${tableName}-missing`, Key: key(1) })), 'ResourceNotFoundException');
    assert.ok(error instanceof ddb.ResourceNotFoundException);
    const missingArn = streamArn.replace(`table/${tableName}/`, `table/${tableName}-missing/`);
    const streamError = await rejectsWith(() => streamsClient.send(
      new streams.DescribeStreamCommand({ StreamArn: missingArn })), 'ResourceNotFoundException');
    assert.ok(streamError instanceof streams.ResourceNotFoundException);
  });

  test('DynamoDB Streams: ListStreams, DescribeStream, GetShardIterator, GetRecords', async () => {
    const listed = await streamsClient.send(
      new streams.ListStreamsCommand({ TableName: tableName }));
    assert.deepEqual(listed.Streams.map((stream) => stream.StreamArn), [streamArn]);
    assert.equal(listed.Streams[0].TableName, tableName);
    const { StreamDescription } = await streamsClient.send(
      new streams.DescribeStreamCommand({ StreamArn: streamArn }));
    assert.equal(StreamDescription.StreamStatus, 'ENABLED');
    assert.equal(StreamDescription.StreamViewType, 'NEW_AND_OLD_IMAGES');
    assert.equal(StreamDescription.TableName, tableName);
    assert.ok(StreamDescription.Shards.length >= 1);

    // INSERT 1, MODIFY 1, INSERT 2, INSERT 3, (INSERT 4, MODIFY 2 in one transaction), REMOVE 1:
    // the failed condition and the cancelled transaction wrote nothing.
    const byShard = await readStream(streamsClient, streamArn, 7);
    const records = [];
    for (const [shardId, shardRecords] of byShard) {
      let previous = -1n;
      for (const record of shardRecords) {
        const sequence = BigInt(record.dynamodb.SequenceNumber);
        assert.ok(sequence > previous, `sequence numbers rise in shard ${shardId}`);
        previous = sequence;
        assert.equal(record.eventSource, 'aws:dynamodb');
        assert.equal(record.awsRegion, REGION);
        assert.equal(record.dynamodb.StreamViewType, 'NEW_AND_OLD_IMAGES');
        assert.ok(record.dynamodb.ApproximateCreationDateTime instanceof Date);
        records.push(record);
      }
    }
    assert.equal(records.length, 7, JSON.stringify(records.map((r) => r.eventName)));
    const eventsOf = (sk) => records.filter((record) => record.dynamodb.Keys.sk.N === String(sk))
                                    .map((record) => record.eventName);
    assert.deepEqual(eventsOf(1), ['INSERT', 'MODIFY', 'REMOVE']);
    assert.deepEqual(eventsOf(2), ['INSERT', 'MODIFY']);
    assert.deepEqual(eventsOf(3), ['INSERT']);
    assert.deepEqual(eventsOf(4), ['INSERT']);
    const ofItem1 = records.filter((record) => record.dynamodb.Keys.sk.N === '1');
    assert.deepEqual(ofItem1[0].dynamodb.Keys, key(1));
    assert.equal(ofItem1[0].dynamodb.OldImage, undefined);
    assert.deepEqual(ofItem1[0].dynamodb.NewImage.blob.B, Uint8Array.from([0, 1, 2, 255]));
    assert.equal(ofItem1[1].dynamodb.OldImage.name.S, 'Ada');
    assert.equal(ofItem1[1].dynamodb.NewImage.name.S, 'Ada Lovelace');
    assert.equal(ofItem1[2].dynamodb.OldImage.name.S, 'Ada Lovelace');
    assert.equal(ofItem1[2].dynamodb.NewImage, undefined);
    // One partition key, one shard: the whole history in commit order.
    if (byShard.size === 1) {
      const names = records.map((r) => `${r.eventName} ${r.dynamodb.Keys.sk.N}`);
      assert.deepEqual(names.slice(0, 4), ['INSERT 1', 'MODIFY 1', 'INSERT 2', 'INSERT 3']);
      assert.deepEqual(names.slice(4, 6).sort(), ['INSERT 4', 'MODIFY 2']);
      assert.equal(names[6], 'REMOVE 1');
    }
  });

  test('DeleteTable, then waitUntilTableNotExists', async () => {
    const { TableDescription } = await client.send(
      new ddb.DeleteTableCommand({ TableName: tableName }));
    assert.equal(TableDescription.TableName, tableName);
    const waited = await ddb.waitUntilTableNotExists(
      { client, maxWaitTime: STATE_TIMEOUT_MS / 1000, minDelay: 1, maxDelay: 2 },
      { TableName: tableName });
    assert.equal(waited.state, 'SUCCESS');
    await rejectsWith(() => client.send(new ddb.DescribeTableCommand({ TableName: tableName })),
                      'ResourceNotFoundException');
  });
}

// The default on loopback: no signature checks, any credentials are accepted.
describe('tidewaterd --auth off', () => {
  let server;
  before(async () => {
    server = new Tidewaterd(['--auth', 'off']);
    await server.start();
  });
  after(async () => server?.stop());
  applicationTests(() => server, { accessKeyId: 'js-sdk', secretAccessKey: 'js-sdk-secret' });
});

// Signatures checked against the credentials file.
describe('tidewaterd --auth required', () => {
  let server;
  before(async () => {
    server = new Tidewaterd([]);
    const credentialsFile = path.join(server.workdir, 'credentials.yaml');
    writeFileSync(credentialsFile, CREDENTIALS_FILE, { mode: 0o600 });
    server.extraArgs = ['--auth', 'required', '--credentials-file', credentialsFile];
    await server.start();
  });
  after(async () => server?.stop());

  describe('the application with correct long-term credentials', () => {
    applicationTests(() => server, ALICE);
  });

  test('correct temporary credentials (with a session token) are accepted', async () => {
    const client = dynamodb(server, TEMPORARY);
    const streamsClient = dynamodbStreams(server, TEMPORARY);
    try {
      const { TableNames } = await client.send(new ddb.ListTablesCommand({}));
      assert.ok(Array.isArray(TableNames));
      const { Streams } = await streamsClient.send(new streams.ListStreamsCommand({}));
      assert.ok(Array.isArray(Streams));
    } finally {
      client.destroy();
      streamsClient.destroy();
    }
  });

  test('a wrong secret: InvalidSignatureException, and nothing is written', async () => {
    const wrong = dynamodb(server, { ...ALICE, secretAccessKey: 'not-alice-secret-0123456789' });
    const good = dynamodb(server, ALICE);
    const tableName = `js-sdk-auth-${Date.now()}`;
    try {
      await rejectsWith(() => wrong.send(new ddb.ListTablesCommand({})),
                        'InvalidSignatureException', INVALID_SIGNATURE_MESSAGE);
      await rejectsWith(() => wrong.send(new ddb.CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      })), 'InvalidSignatureException', INVALID_SIGNATURE_MESSAGE);
      await rejectsWith(() => good.send(new ddb.DescribeTableCommand({ TableName: tableName })),
                        'ResourceNotFoundException');
      const wrongStreams = dynamodbStreams(server, { ...ALICE, secretAccessKey: 'wrong' });
      try {
        await rejectsWith(() => wrongStreams.send(new streams.ListStreamsCommand({})),
                          'InvalidSignatureException', INVALID_SIGNATURE_MESSAGE);
      } finally {
        wrongStreams.destroy();
      }
    } finally {
      wrong.destroy();
      good.destroy();
    }
  });

  test('an unknown access key id: UnrecognizedClientException', async () => {
    const unknown = { accessKeyId: 'TWJSSDKUNKNOWN000009', secretAccessKey: 'whatever-secret' };
    const client = dynamodb(server, unknown);
    const streamsClient = dynamodbStreams(server, unknown);
    try {
      await rejectsWith(() => client.send(new ddb.ListTablesCommand({})),
                        'UnrecognizedClientException', UNRECOGNIZED_CLIENT_MESSAGE);
      await rejectsWith(() => client.send(new ddb.GetItemCommand(
        { TableName: 'any', Key: { pk: { S: 'x' } } })),
                        'UnrecognizedClientException', UNRECOGNIZED_CLIENT_MESSAGE);
      await rejectsWith(() => streamsClient.send(new streams.ListStreamsCommand({})),
                        'UnrecognizedClientException', UNRECOGNIZED_CLIENT_MESSAGE);
    } finally {
      client.destroy();
      streamsClient.destroy();
    }
  });

  test('temporary credentials with a wrong or missing session token: ' +
       'UnrecognizedClientException', async () => {
    for (const credentials of [{ ...TEMPORARY, sessionToken: 'not-the-session-token' },
                               { ...TEMPORARY, sessionToken: undefined }]) {
      const client = dynamodb(server, credentials);
      try {
        await rejectsWith(() => client.send(new ddb.ListTablesCommand({})),
                          'UnrecognizedClientException', UNRECOGNIZED_CLIENT_MESSAGE);
      } finally {
        client.destroy();
      }
    }
  });

  test('expired temporary credentials: ExpiredTokenException', async () => {
    const client = dynamodb(server, EXPIRED);
    try {
      await rejectsWith(() => client.send(new ddb.ListTablesCommand({})),
                        'ExpiredTokenException', EXPIRED_TOKEN_MESSAGE);
    } finally {
      client.destroy();
    }
  });
});
