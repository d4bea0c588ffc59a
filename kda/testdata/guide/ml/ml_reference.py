#!/usr/bin/env python3
"""Inputs and expectations for the developer guide's machine learning
examples (anomaly, anomaly_explanation, hotspots), which have no exact
expected rows: a random cut forest's scores are random. Instead:

- anomaly*/ (input anomaly_records.json): the demo stream (reference.py's demo_rows, its own seed) with
  anomalies injected after the first 1000 records: PRICE raised far above
  its range or CHANGE pushed far below it. expected_anomalies.json lists
  each injected record's index, column and direction; kda's
  TestGuideMLExamples checks that they get the top ANOMALY_SCOREs and, with
  the explanation, that the injected column has the largest
  ATTRIBUTION_SCORE, in the injected DIRECTION.
- hotspots/ (input hotspot_records.json): points uniform on [0,10]^2 with two hot squares (0.5 on a
  side) drawing a fifth of the points each; expected_hotspots.json lists
  the squares; the test checks that the last rows' HOTSPOTS_RESULT has
  exactly those two, each box inside its square grown by the scan radius.

Regenerate: cd kda/testdata/guide/ml && python3 ml_reference.py
"""
import base64
import json
import os
import random
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import reference  # noqa: E402

DEMO_COLS = [("TICKER_SYMBOL", "VARCHAR(4)"), ("SECTOR", "VARCHAR(16)"), ("CHANGE", "REAL"), ("PRICE", "REAL")]
XY_COLS = [("x", "DOUBLE"), ("y", "DOUBLE"), ("is_hot", "VARCHAR(4)")]


def anomalous_rows(n=2000, k=10, seed=161):
    rows = reference.demo_rows(n, seed)
    rng = random.Random(seed + 1)
    idx = sorted(rng.sample(range(1000, n), k))
    injected = []
    for j, i in enumerate(idx):
        ms, ticker, sector, change, price = rows[i]
        if j % 2 == 0:
            price, col, direction = round(price + 1000 + rng.randint(0, 500), 2), "PRICE", "HIGH"
        else:
            change, col, direction = -round(40 + rng.randint(0, 2000) / 100, 2), "CHANGE", "LOW"
        rows[i] = (ms, ticker, sector, change, price)
        injected.append({"index": i, "column": col, "direction": direction})
    return rows, injected


def hotspot_points(n=2000, seed=162):
    rng = random.Random(seed)
    squares = [[2.0, 3.0, 2.5, 3.5], [7.0, 6.0, 7.5, 6.5]]  # xmin, ymin, xmax, ymax
    ms, out = reference.START_MS, []
    for i in range(n):
        ms += rng.randint(1, 400)
        sq = squares[i % 5] if i % 5 < 2 else None
        if sq:
            x, y = rng.uniform(sq[0], sq[2]), rng.uniform(sq[1], sq[3])
        else:
            x, y = rng.uniform(0, 10), rng.uniform(0, 10)
        out.append((ms, {"x": round(x, 4), "y": round(y, 4), "is_hot": "Y" if sq else "N"}))
    return out, squares


def records(rows):
    recs = []
    for i, (ms, data) in enumerate(rows):
        recs.append({"SequenceNumber": "4959%010d" % i, "ApproximateArrivalTimestamp": reference.iso(ms),
                     "Data": base64.b64encode(json.dumps(data).encode()).decode(), "PartitionKey": "p"})
    return {"Records": recs, "NextShardIterator": "AAAA", "MillisBehindLatest": 0}


def dump(path, doc, indent=1):
    with open(path, "w") as f:
        json.dump(doc, f, indent=indent)
        f.write("\n")


def application(name, cols):
    with open(os.path.join(name, "app.sql")) as f:
        app = reference.application(name, f.read())
    app["ApplicationDetail"]["InputDescriptions"][0]["InputSchema"]["RecordColumns"] = [
        {"Name": c, "Mapping": "$." + c, "SqlType": t} for c, t in cols]
    dump(os.path.join(name, "application.json"), app)


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    rows, injected = anomalous_rows()
    demo = [(ms, {"TICKER_SYMBOL": t, "SECTOR": s, "CHANGE": c, "PRICE": p}) for ms, t, s, c, p in rows]
    dump("anomaly_records.json", records(demo), None)
    dump("expected_anomalies.json", injected)
    for name in ["anomaly", "anomaly_explanation"]:
        application(name, DEMO_COLS)
    pts, squares = hotspot_points()
    dump("hotspot_records.json", records(pts), None)
    dump("expected_hotspots.json", squares)
    application("hotspots", XY_COLS)


if __name__ == "__main__":
    main()
