#!/usr/bin/env python3
"""Independent reference for the developer guide's example applications.

For each example directory (app.sql) this writes application.json (the
`aws kinesisanalytics describe-application` shape with app.sql as its
code), the demo stream's records (records.json, as `aws kinesis
get-records` prints them; an example with an input of its own gets its
records.json in its directory, and one with a reference table the table's
S3 object as a local file there) and each example's expected
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
import re

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
    return own_records([(ms, {"TICKER_SYMBOL": ticker, "SECTOR": sector, "CHANGE": change, "PRICE": price})
                        for ms, ticker, sector, change, price in rows], key=lambda i, cols: cols["TICKER_SYMBOL"])


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


# --- Examples on inputs of their own: each gives its input columns, its
# rows (arrival ms, {column: value}) and the expected output computed from
# them; records.json is then written in the example's directory.

def referrer_rows(n=400, seed=21):
    rng = random.Random(seed)
    rows, ms = [], START_MS
    for _ in range(n):
        ms += rng.randint(1, 900)
        ref = (rng.choice(["http://", "https://"]) + rng.choice(["www.", "", "www."]) +
               rng.choice(["amazon", "example", "kinesis", "lakekit"]) +
               rng.choice([".com", ".org", ".com/path", ".com/a/b?x=1", ".net/www"]))
        rows.append((ms, {"REFERRER": ref}))
    return rows


def string_substring(rows):
    """Referrers matching LIKE '%www.%.com%': the text between the first
    'www.' and the first '.com' (SUBSTRING from 1-based POSITIONs), and
    'http://' at the start replaced by 'https://'."""
    out = []
    for ms, r in rows:
        ref = r["REFERRER"]
        if not re.fullmatch(r".*www\..*\.com.*", ref, re.S):
            continue
        www, com = ref.find("www.") + 1, ref.find(".com") + 1
        start, length = www + 4, com - www - 4
        out.append(row(ms, REFERRER=ref, DOMAIN=ref[start - 1:start - 1 + length],
                       SECURE=re.sub(r"^http://", "https://", ref)))
    return out


def web_log_rows(n=400, seed=22):
    rng = random.Random(seed)
    rows, ms = [], START_MS
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    for _ in range(n):
        ms += rng.randint(1, 900)
        if rng.randint(0, 14) == 0:
            rows.append((ms, {"LOG": "not a log line"}))
            continue
        t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
        when = "[%02d/%s/%d:%02d:%02d:%02d -0700]" % (t.day, months[t.month - 1], t.year, t.hour, t.minute, t.second)
        line = '%d.%d.%d.%d - %s %s "%s /%s/%s.html HTTP/1.1" %d %d' % (
            rng.randint(1, 254), rng.randint(0, 254), rng.randint(0, 254), rng.randint(1, 254),
            rng.choice(["-", "John", "ann", "bob"]), when, rng.choice(["GET", "POST", "PUT"]),
            rng.choice(["icons", "img", "docs"]), rng.choice(["index", "a", "b_c"]),
            rng.choice([200, 304, 404, 500]), rng.randint(0, 99999))
        rows.append((ms, {"LOG": line}))
    return rows


def web_log_parse(rows):
    """Common log format fields (%h %l %u %t "%r" %>s %b; %t keeps its
    brackets), the request's method and path from a whole-string regex; a
    line that does not parse gives NULLs."""
    out = []
    common = re.compile(r'(\S+) (\S+) (\S+) (\[[^\]]*\]) "([^"]*)" (\S+) (\S+)')
    req = re.compile(r'[^"]*"([A-Z]+) ([^ ]*) [^"]*".*')
    for ms, r in rows:
        m, q = common.fullmatch(r["LOG"]), req.fullmatch(r["LOG"])
        out.append(row(ms, HOST=m and m.group(1), USER_ID=m and m.group(3), REQUEST_TIME=m and m.group(4),
                       METHOD=q and q.group(1), PATH=q and q.group(2),
                       STATUS=m and int(m.group(6)), BYTES_SENT=m and int(m.group(7))))
    return out


def split_rows(n=300, seed=23):
    rng = random.Random(seed)
    rows, ms = [], START_MS
    words = ["red", "green", "blue", "x", "yy", "zzz"]
    for _ in range(n):
        ms += rng.randint(1, 900)
        vals = [rng.choice(words), rng.choice(words), str(rng.randint(-50, 500))][: rng.choice([1, 2, 3, 3, 3])]
        rows.append((ms, {"COL_A": rng.choice(words), "COL_E": ";".join(vals)}))
    return rows


def split_strings(rows):
    """COL_E split at ';' into F1, F2 (VARCHAR) and F3 (INTEGER), NULL where
    the value is missing."""
    out = []
    for ms, r in rows:
        parts = r["COL_E"].split(";") + [None, None]
        out.append(row(ms, COL_A=r["COL_A"], F1=parts[0], F2=parts[1],
                       F3=None if parts[2] is None else int(parts[2])))
    return out


def datetime_transforms(rows):
    """The ENERGY rows' ROWTIME as text, floored to the minute, in Unix ms,
    its ms into the hour, the minute parsed back, an hour later, and the
    processing time (the replay's clock: the arrival)."""
    out = []
    for ms, ticker, sector, _, _ in rows:
        if sector != "ENERGY":
            continue
        minute = ms // 60000 * 60000
        out.append(row(ms, TICKER_SYMBOL=ticker, ROW_TEXT=ts(ms)[:19], ROW_MINUTE=ts(minute), ROW_MILLIS=ms,
                       INTO_HOUR=ms - ms // 3600000 * 3600000, PARSED_MINUTE=ts(minute),
                       NEXT_HOUR=ts(ms + 3600000), PROCESSED=ts(ms)))
    return out


def typed_rows(n=400, seed=24):
    rng = random.Random(seed)
    rows, ms = [], START_MS
    for i in range(n):
        ms += rng.randint(1, 900)
        ticker = rng.choice(TICKERS)
        if rng.randint(0, 1):
            rows.append((ms, {"RECORD_TYPE": "ORDER", "PAYLOAD": "%d|%s|%d" % (i, ticker, rng.randint(1, 500))}))
        else:
            rows.append((ms, {"RECORD_TYPE": "TRADE", "PAYLOAD": "%d|%s|%.2f" % (i, ticker, rng.randint(100, 99999) / 100)}))
    return rows


def multiple_types(rows):
    """Orders (id|ticker|quantity) and trades (id|ticker|price) in one
    stream, each parsed by its type into the common columns."""
    out = []
    for ms, r in rows:
        f = r["PAYLOAD"].split("|")
        if r["RECORD_TYPE"] == "ORDER":
            out.append(row(ms, RECORD_TYPE="ORDER", ID=int(f[0]), TICKER=f[1], QUANTITY=int(f[2]), PRICE=None))
        else:
            out.append(row(ms, RECORD_TYPE="TRADE", ID=int(f[0]), TICKER=f[1], QUANTITY=None, PRICE=float(f[2])))
    return out


def event_time_rows():
    """The demo stream with an EVENT_TIME up to 20 s before the arrival."""
    rng = random.Random(25)
    return [(ms, {"EVENT_TIME": ts(ms - rng.randint(0, 20000)), "TICKER_SYMBOL": t, "SECTOR": s,
                  "CHANGE": c, "PRICE": p}) for ms, t, s, c, p in demo_rows(seed=26)]


def event_windows(rows):
    """Per minute of ROWTIME (in order), the groups (ticker, event minute)
    in first-seen order with their rows' prices."""
    windows = {}
    for ms, r in rows:
        em = parse_ts(r["EVENT_TIME"]) // 60000 * 60000
        windows.setdefault(ms // 60000, {}).setdefault((r["TICKER_SYMBOL"], em), []).append(r["PRICE"])
    return [((start + 1) * 60000, groups) for start, groups in sorted(windows.items())]


def parse_ts(s):
    t = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return int(round(t.timestamp() * 1000))


def tumbling_event_time(rows):
    """COUNT and AVG(PRICE) per ticker and EVENT_TIME minute within each
    ROWTIME minute, at the window's end, groups in first-seen order."""
    out = []
    for end, groups in event_windows(rows):
        for (ticker, em), prices in groups.items():
            total = 0.0
            for p in prices:
                total += p
            out.append(row(end, TICKER_SYMBOL=ticker, EVENT_MINUTE=ts(em), TICKER_COUNT=len(prices),
                           AVG_PRICE=total / len(prices)))
    return out


def partial_results(rows):
    """The partial counts of the tumbling window (ROWTIME the window end),
    each followed by the sum of its ticker and event minute's partials of
    the last ten minutes, itself included."""
    partial = [(end, ticker, em, len(prices)) for end, groups in event_windows(rows)
               for (ticker, em), prices in groups.items()]
    out = []
    for i, (end, ticker, em, _) in enumerate(partial):
        total = float(sum(n for e, t, m, n in partial[: i + 1] if t == ticker and m == em and e >= end - 600000))
        out.append(row(end, TICKER=ticker, TRADETIME=ts(em), TICKERCOUNT=total))
    return out


def order_trade_rows(n=500, seed=27):
    """Orders with increasing ids and trades of a recent (or unknown) order."""
    rng = random.Random(seed)
    rows, ms, next_id = [], START_MS, 1
    for _ in range(n):
        ms += rng.randint(1, 900)
        if rng.randint(0, 2) == 0 or next_id == 1:
            rows.append((ms, {"RECORD_TYPE": "ORDER", "ORDER_ID": next_id, "TICKER": rng.choice(TICKERS),
                              "AMOUNT": rng.randint(100, 99999) / 100}))
            next_id += 1
        else:
            oid = max(1, next_id - rng.randint(1, 120))
            rows.append((ms, {"RECORD_TYPE": "TRADE", "ORDER_ID": oid, "TICKER": rng.choice(TICKERS),
                              "AMOUNT": rng.randint(100, 99999) / 100}))
    return rows


def stream_join(rows):
    """Each trade with the orders of the same id that arrived before it and
    at most a minute earlier (both ends included), oldest first, at the
    trade's ROWTIME."""
    out = []
    for i, (ms, t) in enumerate(rows):
        if t["RECORD_TYPE"] != "TRADE":
            continue
        for oms, o in rows[:i]:
            if o["RECORD_TYPE"] == "ORDER" and o["ORDER_ID"] == t["ORDER_ID"] and oms >= ms - 60000:
                out.append(row(ms, ORDER_ID=o["ORDER_ID"], TICKER=o["TICKER"], ORDER_AMOUNT=o["AMOUNT"],
                               TRADE_AMOUNT=t["AMOUNT"], ORDER_TIME=ts(oms)))
    return out


COMPANIES = [("AMZN", "Amazon.com Inc"), ("XOM", "Exxon Mobil Corp"), ("WAS", "Was Holdings"),
             ("QXZ", "Qxz Industries"), ("NFLX", "Netflix Inc")]


def reference_join(rows):
    """Rows whose ticker is in the COMPANIES table, with its company."""
    names = dict(COMPANIES)
    return [row(ms, TICKER_SYMBOL=t, COMPANY=names[t], SECTOR=s, PRICE=p) for ms, t, s, c, p in rows if t in names]


DEMO_COLS = [("TICKER_SYMBOL", "VARCHAR(4)"), ("SECTOR", "VARCHAR(16)"), ("CHANGE", "REAL"), ("PRICE", "REAL")]
EVENT_COLS = [("EVENT_TIME", "TIMESTAMP")] + DEMO_COLS
# Examples with inputs of their own: (input columns, rows, reference).
OWN_INPUT = {
    "string_substring": ([("REFERRER", "VARCHAR(64)")], referrer_rows, string_substring),
    "web_log_parse": ([("LOG", "VARCHAR(512)")], web_log_rows, web_log_parse),
    "split_strings": ([("COL_A", "VARCHAR(8)"), ("COL_E", "VARCHAR(64)")], split_rows, split_strings),
    "multiple_types": ([("RECORD_TYPE", "VARCHAR(8)"), ("PAYLOAD", "VARCHAR(64)")], typed_rows, multiple_types),
    "tumbling_event_time": (EVENT_COLS, event_time_rows, tumbling_event_time),
    "partial_results": (EVENT_COLS, event_time_rows, partial_results),
    "stream_join": ([("RECORD_TYPE", "VARCHAR(8)"), ("ORDER_ID", "INTEGER"), ("TICKER", "VARCHAR(4)"), ("AMOUNT", "REAL")],
                    order_trade_rows, stream_join),
}
# Reference tables: example -> (table, S3 key, columns, rows); the S3
# object's local copy is the key's base name in the example's directory.
REFERENCES = {"reference_join": ("COMPANIES", "reference/companies.csv",
                                 [("TICKER", "VARCHAR(4)"), ("COMPANY", "VARCHAR(64)")], COMPANIES)}

EXAMPLES = {"tumbling_rowtime": tumbling_rowtime, "simple_alerts": simple_alerts, "sliding_avg": sliding_avg,
            "stagger_window": stagger_window, "throttled_alerts": throttled_alerts, "error_stream": error_stream,
            "top_k_items": top_k_items,
            "datetime_transforms": datetime_transforms, "reference_join": reference_join}


def application(name, code, cols=DEMO_COLS):
    app = {"ApplicationDetail": {
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
    if name in REFERENCES:
        table, key, rcols, _ = REFERENCES[name]
        app["ApplicationDetail"]["ReferenceDataSourceDescriptions"] = [{
            "ReferenceId": "2.1",
            "TableName": table,
            "S3ReferenceDataSourceDescription": {
                "BucketARN": "arn:aws:s3:::reference-data",
                "FileKey": key,
                "ReferenceRoleARN": "arn:aws:iam::123456789012:role/kda"},
            "ReferenceSchema": {
                "RecordFormat": {"RecordFormatType": "CSV",
                                 "MappingParameters": {"CSVMappingParameters": {
                                     "RecordRowDelimiter": "\n", "RecordColumnDelimiter": ","}}},
                "RecordEncoding": "UTF-8",
                "RecordColumns": [{"Name": n, "SqlType": t} for n, t in rcols]}}]
    return app


def own_records(rows, key=lambda i, cols: "p%d" % (i % 4)):
    """The get-records output for rows of (ms, {column: value})."""
    recs = []
    for i, (ms, cols) in enumerate(rows):
        data = json.dumps(cols)
        recs.append({"SequenceNumber": "4959%010d" % i, "ApproximateArrivalTimestamp": iso(ms),
                     "Data": base64.b64encode(data.encode()).decode(), "PartitionKey": key(i, cols)})
    return {"Records": recs, "NextShardIterator": "AAAA", "MillisBehindLatest": 0}


def write_example(name, cols, out):
    with open(os.path.join(name, "app.sql")) as f:
        code = f.read()
    with open(os.path.join(name, "application.json"), "w") as f:
        json.dump(application(name, code, cols), f, indent=2)
        f.write("\n")
    dest, errors = out if isinstance(out, tuple) else (out, None)
    with open(os.path.join(name, "expected.jsonl"), "w") as f:
        for r in dest:
            f.write(json.dumps(r) + "\n")
    if errors is not None:
        with open(os.path.join(name, "expected_error_stream.jsonl"), "w") as f:
            for r in errors:
                f.write(json.dumps(r) + "\n")


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    rows = demo_rows()
    with open("records.json", "w") as f:
        json.dump(records_json(rows), f, indent=1)
        f.write("\n")
    for name, ref in EXAMPLES.items():
        write_example(name, DEMO_COLS, ref(rows))
    for name, (cols, make_rows, ref) in OWN_INPUT.items():
        own = make_rows()
        with open(os.path.join(name, "records.json"), "w") as f:
            json.dump(own_records(own), f, indent=1)
            f.write("\n")
        write_example(name, cols, ref(own))
    for name, (_, key, _, table_rows) in REFERENCES.items():
        with open(os.path.join(name, os.path.basename(key)), "w") as f:
            for r in table_rows:
                f.write(",".join(r) + "\n")

if __name__ == "__main__":
    main()
