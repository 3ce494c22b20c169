// Tidewater web console: tables, an item browser and a live stream view over this server's
// DynamoDB JSON API and the console endpoints (/console/api/...). Read-only; no libraries.
'use strict';

const state = { table: null, description: null, request: null, lastKey: null, source: null };

function $(id) { return document.getElementById(id); }

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// Calls a DynamoDB operation; a failed call throws {type, message} from the server's answer.
async function api(operation, body) {
  let response;
  try {
    response = await fetch('/', {
      method: 'POST',
      headers: { 'X-Amz-Target': 'DynamoDB_20120810.' + operation,
                 'Content-Type': 'application/x-amz-json-1.0' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw { type: 'NetworkError', message: String(e) };
  }
  let answer = null;
  try { answer = await response.json(); } catch (e) { answer = null; }
  if (!response.ok) {
    throw { type: (answer && answer.__type) || 'HTTP ' + response.status,
            message: (answer && (answer.message || answer.Message)) || response.statusText };
  }
  return answer;
}

function showError(error) {
  const box = $('error');
  box.textContent = error ? error.type + ': ' + error.message : '';
  box.hidden = !error;
}

// ---- tables ----

async function loadTables() {
  const list = $('table-list');
  const names = [];
  try {
    let start;
    do {
      const page = await api('ListTables', start ? { ExclusiveStartTableName: start } : {});
      names.push(...page.TableNames);
      start = page.LastEvaluatedTableName;
    } while (start);
  } catch (error) {
    $('table-details').textContent = error.type + ': ' + error.message;
    return;
  }
  list.replaceChildren();
  for (const name of names) {
    const button = element('button', name);
    button.type = 'button';
    button.id = 'table-' + name;
    button.dataset.table = name;
    if (name === state.table) button.classList.add('selected');
    button.addEventListener('click', () => selectTable(name));
    list.appendChild(element('li')).appendChild(button);
  }
  if (names.length === 0) list.appendChild(element('li', 'No tables.', 'hint'));
}

function keySchemaText(table) {
  const types = {};
  for (const definition of table.AttributeDefinitions || []) {
    types[definition.AttributeName] = definition.AttributeType;
  }
  return (table.KeySchema || [])
      .map((key) => key.AttributeName + ' (' + types[key.AttributeName] + ', ' + key.KeyType + ')')
      .join(', ');
}

async function selectTable(name) {
  state.table = name;
  for (const button of document.querySelectorAll('#table-list button')) {
    button.classList.toggle('selected', button.dataset.table === name);
  }
  $('items-table').textContent = name;
  $('stream-table').textContent = name;
  const details = $('table-details');
  details.textContent = 'Loading ' + name + '...';
  let table, ttl;
  try {
    table = (await api('DescribeTable', { TableName: name })).Table;
    ttl = (await api('DescribeTimeToLive', { TableName: name })).TimeToLiveDescription;
  } catch (error) {
    details.textContent = error.type + ': ' + error.message;
    return;
  }
  state.description = table;
  const stream = table.StreamSpecification;
  const rows = [
    ['Name', table.TableName],
    ['Status', table.TableStatus],
    ['Key schema', keySchemaText(table)],
    ['Size (bytes)', String(table.TableSizeBytes)],
    ['Item count', String(table.ItemCount)],
    ['Stream', stream && stream.StreamEnabled ? 'enabled, ' + stream.StreamViewType : 'disabled'],
    ['Stream ARN', table.LatestStreamArn || '-'],
    ['TTL', ttl ? ttl.TimeToLiveStatus + (ttl.AttributeName ? ' on ' + ttl.AttributeName : '')
                : '-'],
  ];
  const list = element('dl');
  for (const [term, value] of rows) {
    list.appendChild(element('dt', term));
    list.appendChild(element('dd', value));
  }
  details.replaceChildren(list);
  prefillKeyCondition(table);
}

// Offers "<partition key> = :pk" with a typed placeholder value for the selected table.
function prefillKeyCondition(table) {
  const hash = (table.KeySchema || []).find((key) => key.KeyType === 'HASH');
  if (!hash) return;
  const definition = (table.AttributeDefinitions || [])
      .find((d) => d.AttributeName === hash.AttributeName);
  const safeName = /^[A-Za-z][A-Za-z0-9_]*$/.test(hash.AttributeName);
  $('key-condition').value = (safeName ? hash.AttributeName : '#pk') + ' = :pk';
  $('expression-names').value = safeName ? '' : JSON.stringify({ '#pk': hash.AttributeName });
  $('expression-values').value =
      JSON.stringify({ ':pk': { [definition ? definition.AttributeType : 'S']: '' } });
}

// ---- item browser ----

function parseJsonInput(id, label) {
  const text = $(id).value.trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw { type: 'InvalidInput', message: label + ' is not valid JSON: ' + e.message };
  }
}

function buildRequest(operation) {
  if (!state.table) throw { type: 'InvalidInput', message: 'Select a table first.' };
  const request = { TableName: state.table, Limit: Number($('page-size').value) || 25 };
  const values = parseJsonInput('expression-values', 'Expression attribute values');
  const names = parseJsonInput('expression-names', 'Expression attribute names');
  if (operation === 'Query') {
    request.KeyConditionExpression = $('key-condition').value;
  }
  const filter = $('filter-expression').value.trim();
  if (filter !== '') request.FilterExpression = filter;
  // Only the placeholders the expressions use: DynamoDB refuses unused ones.
  const used = (request.KeyConditionExpression || '') + ' ' + (request.FilterExpression || '');
  if (values) {
    const kept = Object.fromEntries(Object.entries(values).filter(([k]) => used.includes(k)));
    if (Object.keys(kept).length > 0) request.ExpressionAttributeValues = kept;
  }
  if (names) {
    const kept = Object.fromEntries(Object.entries(names).filter(([k]) => used.includes(k)));
    if (Object.keys(kept).length > 0) request.ExpressionAttributeNames = kept;
  }
  return { operation, body: request };
}

async function runItems(operation, nextPage) {
  showError(null);
  let request;
  try {
    request = nextPage ? state.request : buildRequest(operation);
  } catch (error) {
    showError(error);
    return;
  }
  const body = Object.assign({}, request.body);
  if (nextPage && state.lastKey) body.ExclusiveStartKey = state.lastKey;
  $('items-summary').textContent = request.operation + ' running...';
  let answer;
  try {
    answer = await api(request.operation, body);
  } catch (error) {
    $('items-summary').textContent = '';
    $('items').replaceChildren();
    showError(error);
    return;
  }
  state.request = request;
  state.lastKey = answer.LastEvaluatedKey || null;
  $('next-page').disabled = !state.lastKey;
  renderItems(answer.Items || []);
  $('items-summary').textContent = request.operation + ': ' + answer.Count + ' items (' +
      answer.ScannedCount + ' read)' + (state.lastKey ? '; more on the next page' : '');
}

function valueText(value) {
  const [type, inner] = Object.entries(value)[0] || ['', ''];
  if (type === 'S' || type === 'N' || type === 'B') return inner;
  if (type === 'BOOL') return String(inner);
  if (type === 'NULL') return 'null';
  return JSON.stringify(value);
}

function renderItems(items) {
  const table = $('items');
  const columns = [];
  for (const item of items) {
    for (const name of Object.keys(item)) if (!columns.includes(name)) columns.push(name);
  }
  const head = element('tr');
  for (const name of columns) head.appendChild(element('th', name));
  const rows = [element('thead')];
  rows[0].appendChild(head);
  const body = element('tbody');
  for (const item of items) {
    const row = element('tr', undefined, 'item');
    for (const name of columns) {
      const cell = element('td', item[name] === undefined ? '' : valueText(item[name]));
      if (item[name] !== undefined) cell.title = JSON.stringify(item[name]);
      row.appendChild(cell);
    }
    body.appendChild(row);
  }
  rows.push(body);
  table.replaceChildren(...rows);
}

// ---- live stream ----

const kMaxStreamRows = 500;

function stopFollowing(status) {
  if (state.source) state.source.close();
  state.source = null;
  $('follow').disabled = false;
  $('unfollow').disabled = true;
  if (status) $('stream-status').textContent = status;
}

function follow() {
  if (!state.table) {
    $('stream-status').textContent = 'Select a table first.';
    return;
  }
  const description = state.description;
  if (!description || !description.StreamSpecification ||
      !description.StreamSpecification.StreamEnabled) {
    $('stream-status').textContent = 'Table ' + state.table + ' has no enabled stream.';
    return;
  }
  stopFollowing();
  const table = state.table;
  $('stream-records').tBodies[0].replaceChildren();
  $('stream-status').textContent = 'connecting to ' + table + '...';
  const source = new EventSource('/console/api/stream?table=' + encodeURIComponent(table));
  state.source = source;
  $('follow').disabled = true;
  $('unfollow').disabled = false;
  source.addEventListener('ready', (event) => {
    const ready = JSON.parse(event.data);
    $('stream-status').textContent =
        'following ' + ready.table + ' (' + ready.shards + ' shards) from now on';
  });
  source.addEventListener('record', (event) => appendRecord(JSON.parse(event.data)));
  source.addEventListener('end', () => stopFollowing('stream ended: the table was deleted'));
  source.onerror = () => {
    if (state.source === source) $('stream-status').textContent = 'disconnected; retrying...';
  };
}

function appendRecord(event) {
  const record = event.record;
  const change = record.dynamodb || {};
  const row = element('tr', undefined, 'stream-record');
  const cells = [
    new Date(event.timeMicros / 1000).toISOString(),
    record.eventName,
    String(event.shard),
    change.SequenceNumber,
    JSON.stringify(change.Keys || {}),
    change.NewImage ? JSON.stringify(change.NewImage) : '',
    change.OldImage ? JSON.stringify(change.OldImage) : '',
  ];
  for (const text of cells) row.appendChild(element('td', text));
  const body = $('stream-records').tBodies[0];
  body.appendChild(row);
  while (body.rows.length > kMaxStreamRows) body.deleteRow(0);
}

// ---- charts ----

const kCharts = [
  { key: 'writesPerSecond', title: 'Writes (records/s)' },
  { key: 'kafkaLagRecords', title: 'Kafka publisher lag (records)' },
  { key: 'kafkaLagSeconds', title: 'Kafka publisher lag (seconds)' },
  { key: 'consumerLagRecords', title: 'Consumer applications lag (records)' },
  { key: 'replicationLagRecords', title: 'Replication into this region lag (records)' },
  { key: 'replicationLagSeconds', title: 'Replication into this region lag (seconds)' },
];

function svg(tag, attributes, text) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatNumber(value) {
  if (value >= 1000) return Math.round(value).toString();
  return Number(value.toPrecision(3)).toString();
}

function drawChart(title, points, key) {
  const width = 360, height = 160, left = 44, right = 8, top = 20, bottom = 22;
  const chart = svg('svg', { width, height, class: 'chart', 'data-series': key });
  chart.appendChild(svg('text', { x: left, y: 14 }, title));
  const samples = points.filter((point) => point[key] !== null && point[key] !== undefined);
  if (samples.length === 0) {
    chart.appendChild(svg('text', { x: left, y: height / 2 },
        key === 'writesPerSecond' ? 'no samples yet' : 'no Kafka publisher'));
    return chart;
  }
  const first = samples[0].timeMicros;
  const last = samples[samples.length - 1].timeMicros;
  const span = Math.max(last - first, 1);
  const maximum = Math.max(...samples.map((point) => point[key]), 1e-9);
  const x = (time) => left + (width - left - right) * (time - first) / span;
  const y = (value) => top + (height - top - bottom) * (1 - value / maximum);
  chart.appendChild(svg('line', { x1: left, y1: height - bottom, x2: width - right,
                                  y2: height - bottom }));
  chart.appendChild(svg('line', { x1: left, y1: top, x2: left, y2: height - bottom }));
  chart.appendChild(svg('text', { x: 2, y: top + 4 }, formatNumber(maximum)));
  chart.appendChild(svg('text', { x: 2, y: height - bottom }, '0'));
  const minutes = Math.round((last - first) / 60e6);
  chart.appendChild(svg('text', { x: left, y: height - 6 }, '-' + minutes + ' min'));
  chart.appendChild(svg('text', { x: width - right - 24, y: height - 6 }, 'now'));
  const line = samples.map((point) => x(point.timeMicros).toFixed(1) + ',' +
                                      y(point[key]).toFixed(1)).join(' ');
  chart.appendChild(svg('polyline', { points: line }));
  return chart;
}

async function loadHistory() {
  let history;
  try {
    const response = await fetch('/console/api/history', { cache: 'no-store' });
    history = await response.json();
  } catch (e) {
    return;
  }
  $('charts').replaceChildren(
      ...kCharts.map((chart) => drawChart(chart.title, history.points, chart.key)));
}

// ---- start ----

$('refresh-tables').addEventListener('click', loadTables);
$('run-query').addEventListener('click', () => runItems('Query', false));
$('run-scan').addEventListener('click', () => runItems('Scan', false));
$('next-page').addEventListener('click', () => runItems(null, true));
$('follow').addEventListener('click', follow);
$('unfollow').addEventListener('click', () => stopFollowing('not following'));
loadTables();
loadHistory();
setInterval(loadHistory, 5000);
