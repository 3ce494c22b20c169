"""Helpers shared by the secondary index conformance files: request pieces (key schema
elements, attribute definitions), batch loading, and item comparisons by table key."""

import tidewater_fixture as tw


def key_element(name, key_type):
    return {"AttributeName": name, "KeyType": key_type}


def attribute(name, attribute_type):
    return {"AttributeName": name, "AttributeType": attribute_type}


def batch_put(table, items):
    ddb = tw.dynamodb()
    for start in range(0, len(items), 25):
        pending = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while pending:
            pending = tw.retry_throttled(ddb.batch_write_item,
                                         RequestItems=pending)["UnprocessedItems"]


def scalar(value):
    """The Python value DynamoDB orders a key attribute value by (numbers as numbers)."""
    (kind, inner), = value.items()
    return float(inner) if kind == "N" else inner


def project(item, names):
    return item if names is None else {n: item[n] for n in names if n in item}


def table_key(item):
    return (item["pk"]["S"], item["sk"]["S"])
