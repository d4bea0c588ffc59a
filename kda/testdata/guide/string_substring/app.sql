-- Developer guide, "Transforming string values": the domain between "www."
-- and ".com" of each referrer, extracted with POSITION and SUBSTRING, and the
-- referrer moved to https with REGEX_REPLACE.
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (REFERRER VARCHAR(64), DOMAIN VARCHAR(32), SECURE VARCHAR(64));
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM REFERRER,
        SUBSTRING(REFERRER, POSITION('www.' IN REFERRER) + 4,
                  POSITION('.com' IN REFERRER) - POSITION('www.' IN REFERRER) - 4),
        REGEX_REPLACE(REFERRER, '^http://', 'https://', 1, 0)
    FROM "SOURCE_SQL_STREAM_001"
    WHERE REFERRER LIKE '%www.%.com%';
