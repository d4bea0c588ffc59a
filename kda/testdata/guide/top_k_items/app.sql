-- Developer guide, "Most frequently occurring values (TOP_K_ITEMS_TUMBLING)":
-- each minute, the three tickers that traded most often and how often.
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (TICKER_SYMBOL VARCHAR(4), TRADES BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM *
    FROM TABLE(TOP_K_ITEMS_TUMBLING(
        CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"),
        'TICKER_SYMBOL', -- the column whose values are counted
        3,               -- how many of the most frequent values to keep
        60               -- the tumbling window, in seconds of ROWTIME
    ));
