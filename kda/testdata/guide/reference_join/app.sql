-- Developer guide, "Joining with reference data": each row enriched with its
-- company's name from a reference table loaded from S3; tickers the table
-- lacks are dropped (an inner join).
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (TICKER_SYMBOL VARCHAR(4), COMPANY VARCHAR(64), SECTOR VARCHAR(16), PRICE REAL);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM s.TICKER_SYMBOL, c.COMPANY, s.SECTOR, s.PRICE
    FROM "SOURCE_SQL_STREAM_001" AS s
    JOIN "COMPANIES" AS c ON s.TICKER_SYMBOL = c.TICKER;
