#!/usr/bin/env python3
"""Independent reference for the developer guide's example applications.

For each example directory (app.sql) this writes application.json (the
`aws kinesisanalytics describe-application` shape with app.sql as its
code), and for all of them the demo stream's records (records.json, as
`aws kinesis get-records` prints them) and each example's expected
DESTINATION_SQL_STREAM rows (expected.jsonl; error_stream's in
expected_error_stream.jsonl where the example is about it), computed here from the
documented semantics, not by running the SQL. kda's TestGuideExamples
replays records.json through application.json and compares.

Regenerate: cd kda/testdata/guide && python3 reference.py
"""
import base64
import datetime
import json
import os
import random

START_MS = 1_700_000_000_000
TICKERS = ["AMZN", "XOM", "WAS", "QXZ", "NFLX", "ASD", "TBV"]
SECTORS = ["TECHNOLOGY", "ENERGY", "HEALTHCARE", "FINANCIAL", "RETAIL"]


def demo_rows(n=1500, seed=16):
    """The demo stream: (arrival ms, ticker, sector, change, price)."""
    rng = random.Random(seed)
    rows, ms = [], START_MS
    for _ in range(n):
        ms += rng.randint(1, 400)
        ticker = rng.choice(TICKERS)
        price = rng.randint(1000, 20000) / 100
        change = rng.randint(-300, 300) / 100
        rows.append((ms, ticker, rng.choice(SECTORS), change, price))
    return rows


def ts(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (ms % 1000)


def iso(ms):
    return ts(ms).replace(" ", "T") + "Z"


def records_json(rows):
    recs = []
    for i, (ms, ticker, sector, change, price) in enumerate(rows):
        data = json.dumps({"TICKER_SYMBOL": ticker, "SECTOR": sector, "CHANGE": change, "PRICE": price})
        recs.append({"SequenceNumber": "4959%010d" % i, "ApproximateArrivalTimestamp": iso(ms),
                     "Data": base64.b64encode(data.encode()).decode(), "PartitionKey": ticker})
    return {"Records": recs, "NextShardIterator": "AAAA", "MillisBehindLatest": 0}


def row(ms, **cols):
    out = {"ROWTIME": ts(ms)}
    out.update(cols)
    return out


def tumbling_rowtime(rows):
    """MIN/MAX price per ticker per minute of ROWTIME; a window's rows come
    out at its end, groups in first-seen order, ROWTIME the window end."""
    out, windows = [], {}
    for ms, ticker, _, _, price in rows:
        w = windows.setdefault(ms // 60000, {})
        lo, hi = w.get(ticker, (price, price))
        w[ticker] = (min(lo, price), max(hi, price))
    for start in sorted(windows):
        for ticker, (lo, hi) in windows[start].items():
            out.append(row((start + 1) * 60000, TICKER_SYMBOL=ticker, MIN_PRICE=lo, MAX_PRICE=hi))
    return out


def simple_alerts(rows):
    """Rows whose change is over 1% of the price before it."""
    return [row(ms, TICKER_SYMBOL=t, SECTOR=s, CHANGE=c, PRICE=p)
            for ms, t, s, c, p in rows if abs(c / (p - c)) * 100 > 1]


def sliding_avg(rows):
    """Each row: AVG and COUNT of its ticker's rows at most a minute older
    (RANGE INTERVAL '1' MINUTE PRECEDING includes both ends)."""
    out = []
    for i, (ms, ticker, _, _, _) in enumerate(rows):
        win = [p for m, t, _, _, p in rows[: i + 1] if t == ticker and m >= ms - 60000]
        out.append(row(ms, TICKER_SYMBOL=ticker, AVG_PRICE=sum(win) / len(win), N=len(win)))
    return out


def stagger_window(rows):
    """A window per ticker opens at its first row and closes a minute
    later; a row at or after the close opens the next one. Windows come out
    in closing order (which is opening order), ROWTIME the close."""
    open_, done = {}, []
    for ms, ticker, _, _, price in rows:
        w = open_.get(ticker)
        if w is not None and ms >= w["start"] + 60000:
            done.append(open_.pop(ticker))
            w = None
        if w is None:
            w = open_[ticker] = {"start": ms, "n": 0, "hi": price, "ticker": ticker}
        w["n"] += 1
        w["hi"] = max(w["hi"], price)
    done.extend(open_.values())
    done.sort(key=lambda w: w["start"])
    return [row(w["start"] + 60000, TICKER=w["ticker"], TICKER_COUNT=w["n"], MAX_PRICE=w["hi"]) for w in done]


def throttled_alerts(rows):
    """The simple alerts, kept only when no alert of the same ticker came
    in the minute before (the count over the minute, itself included, is
    1)."""
    alerts = [(ms, t, c) for ms, t, s, c, p in rows if abs(c / (p - c)) * 100 > 1]
    out = []
    for i, (ms, ticker, change) in enumerate(alerts):
        n = sum(1 for m, t, _ in alerts[: i + 1] if t == ticker and m >= ms - 60000)
        if n == 1:
            out.append(row(ms, TICKER_SYMBOL=ticker, CHANGE=change, TRIGGER_COUNT=n))
    return out


def top_k_items(rows, k=3):
    """The k tickers with the most rows in each minute of ROWTIME, most
    first, equal counts in the order the tickers first came in that
    minute; a window's rows come out at its end, ROWTIME the end."""
    windows = {}
    for ms, ticker, _, _, _ in rows:
        w = windows.setdefault(ms // 60000, {})
        w[ticker] = w.get(ticker, 0) + 1
    out = []
    for start in sorted(windows):
        counts = windows[start]
        top = sorted(counts, key=lambda t: -counts[t])[:k]  # sorted is stable: ties keep arrival order
        out.extend(row((start + 1) * 60000, TICKER_SYMBOL=t, TRADES=counts[t]) for t in top)
    return out


def error_stream(rows):
    """Nothing reaches the destination; each TECHNOLOGY row is an
    Evaluation_Error of STREAM_PUMP in error_stream, at its own ROWTIME
    (the replay's clock is the arrival, so ERROR_TIME is too). Only these
    columns are compared: MESSAGE and DATA_ROW are the engine's wording."""
    return [], [row(ms, ERROR_TIME=ts(ms), ERROR_LEVEL="Error", ERROR_NAME="Evaluation_Error",
                    DATA_ROWTIME=ts(ms), PUMP_NAME="STREAM_PUMP")
                for ms, _, sector, _, _ in rows if "TECH" in sector]


EXAMPLES = {"tumbling_rowtime": tumbling_rowtime, "simple_alerts": simple_alerts, "sliding_avg": sliding_avg,
            "stagger_window": stagger_window, "throttled_alerts": throttled_alerts, "error_stream": error_stream,
            "top_k_items": top_k_items}


def application(name, code):
    cols = [("TICKER_SYMBOL", "VARCHAR(4)"), ("SECTOR", "VARCHAR(16)"), ("CHANGE", "REAL"), ("PRICE", "REAL")]
    return {"ApplicationDetail": {
        "ApplicationName": name.replace("_", "-"),
        "ApplicationARN": "arn:aws:kinesisanalytics:us-east-1:123456789012:application/" + name.replace("_", "-"),
        "ApplicationStatus": "READY",
        "InputDescriptions": [{
            "InputId": "1.1",
            "NamePrefix": "SOURCE_SQL_STREAM",
            "InAppStreamNames": ["SOURCE_SQL_STREAM_001"],
            "KinesisStreamsInputDescription": {
                "ResourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/demo",
                "RoleARN": "arn:aws:iam::123456789012:role/kda"},
            "InputSchema": {
                "RecordFormat": {"RecordFormatType": "JSON",
                                 "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
                "RecordEncoding": "UTF-8",
                "RecordColumns": [{"Name": n, "Mapping": "$." + n, "SqlType": t} for n, t in cols]},
            "InputParallelism": {"Count": 1}}],
        "OutputDescriptions": [{
            "OutputId": "1.1",
            "Name": "DESTINATION_SQL_STREAM",
            "KinesisStreamsOutputDescription": {
                "ResourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/out",
                "RoleARN": "arn:aws:iam::123456789012:role/kda"},
            "DestinationSchema": {"RecordFormatType": "JSON"}}],
        "ApplicationCode": code,
        "ApplicationVersionId": 1}}


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    rows = demo_rows()
    with open("records.json", "w") as f:
        json.dump(records_json(rows), f, indent=1)
        f.write("\n")
    for name, ref in EXAMPLES.items():
        with open(os.path.join(name, "app.sql")) as f:
            code = f.read()
        with open(os.path.join(name, "application.json"), "w") as f:
            json.dump(application(name, code), f, indent=2)
            f.write("\n")
        out = ref(rows)
        dest, errors = out if isinstance(out, tuple) else (out, None)
        with open(os.path.join(name, "expected.jsonl"), "w") as f:
            for r in dest:
                f.write(json.dumps(r) + "\n")
        if errors is not None:
            with open(os.path.join(name, "expected_error_stream.jsonl"), "w") as f:
                for r in errors:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
