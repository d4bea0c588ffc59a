-- Developer guide, "Detecting hotspots on a stream": points (x, y) with a
-- label saying whether the generator put them in a hot region; HOTSPOTS
-- over the last 1000 points finds the regions where at least 17 points lie
-- within 0.2 of each other.
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
    "x" DOUBLE, "y" DOUBLE, "is_hot" VARCHAR(4), HOTSPOTS_RESULT VARCHAR(10000));
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM "x", "y", "is_hot", "HOTSPOTS_RESULT"
    FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM "x", "y", "is_hot" FROM "SOURCE_SQL_STREAM_001"), 1000, 0.2, 17));
