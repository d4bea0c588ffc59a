-- Developer guide, "Throttled alerts": rows whose price changed by more
-- than 1 percent go to CHANGE_STREAM; a ticker's alert is sent only when
-- it is the first of that ticker in the last minute.
CREATE OR REPLACE STREAM "CHANGE_STREAM" (ticker_symbol VARCHAR(4), sector VARCHAR(12), change DOUBLE, price DOUBLE);
CREATE OR REPLACE PUMP "change_pump" AS INSERT INTO "CHANGE_STREAM"
    SELECT STREAM ticker_symbol, sector, change, price
    FROM "SOURCE_SQL_STREAM_001"
    WHERE (ABS(Change / (Price - Change)) * 100) > 1;
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), change REAL, trigger_count INTEGER);
CREATE OR REPLACE PUMP trigger_count_pump AS INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM ticker_symbol, change, trigger_count
    FROM (
        SELECT STREAM ticker_symbol, change, COUNT(*) OVER W1 AS trigger_count
        FROM "CHANGE_STREAM"
        WINDOW W1 AS (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE PRECEDING)
    )
    WHERE trigger_count = 1;
