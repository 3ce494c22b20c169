#!/usr/bin/python3
"""A Tidewater trigger handler in Python, run by `tidewater trigger` (exec handler).

It receives the Lambda DynamoDB event on stdin, exactly as a Lambda function would, and
prints its response on stdout. For each record it appends one audit line (JSON) to the
file named by its first argument. A record whose new image has "fail": true cannot be
processed: the handler reports it in batchItemFailures (with FunctionResponseTypes
ReportBatchItemFailures, Tidewater retries from that record), and stops there, since the
records after it come again anyway.

Logs go to stderr (Tidewater copies them to its log); stdout is only for the response.
"""
import json
import sys


def handle(event, audit):
    failures = []
    for record in event["Records"]:
        change = record["dynamodb"]
        new_image = change.get("NewImage", {})
        if new_image.get("fail", {}).get("BOOL", False):
            print(f"cannot process {change['Keys']}", file=sys.stderr)
            failures.append({"itemIdentifier": change["SequenceNumber"]})
            break
        audit.write(json.dumps({
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "keys": change["Keys"],
            "newImage": new_image,
            "sequence": change["SequenceNumber"],
        }) + "\n")
    return {"batchItemFailures": failures}


def main():
    event = json.load(sys.stdin)
    with open(sys.argv[1], "a", encoding="utf-8") as audit:
        response = handle(event, audit)
    json.dump(response, sys.stdout)


if __name__ == "__main__":
    main()
