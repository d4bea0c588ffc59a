// Conform runs lakekit's javatime conformance table through the JDK's
// java.time.format.DateTimeFormatter. One request per stdin line, one answer
// per stdout line:
//
//	F <tab> pattern <tab> instant (ISO-8601) <tab> zone id <tab> US|ISO
//	    -> the formatted text, or "ERROR <message>"
//	C <tab> pattern
//	    -> "OK" when DateTimeFormatter.ofPattern accepts it, else "ERROR …"
//	P <tab> pattern <tab> text
//	    -> the parsed instant (wall clock read as UTC when the text has no
//	       offset; missing date fields default to 1970-01-01, missing time
//	       fields to 00:00), or "ERROR <message>"
//
// Text is Locale.US, as Firehose's and Spark's (Glue's) JVMs use; "ISO" week
// fields are Locale.US with the region override rg=gbzzzz (Monday, 4 days).
// Parsing is ResolverStyle.STRICT with ERA defaulted to CE, as Spark does.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.time.*;
import java.time.format.*;
import java.time.temporal.*;
import java.util.Locale;

public class Conform {
    static final Locale ISO_WEEKS = Locale.forLanguageTag("en-US-u-rg-gbzzzz");

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.split("\t", -1);
            String answer;
            try {
                switch (f[0]) {
                    case "F": answer = format(f); break;
                    case "C": DateTimeFormatter.ofPattern(f[1], Locale.US); answer = "OK"; break;
                    default: answer = parse(f);
                }
            } catch (Exception e) {
                answer = "ERROR " + e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).replace('\n', ' ');
            }
            out.println(answer);
        }
        out.flush();
    }

    static String format(String[] f) {
        Locale loc = f[4].equals("ISO") ? ISO_WEEKS : Locale.US;
        DateTimeFormatter fmt = DateTimeFormatter.ofPattern(f[1], loc);
        return fmt.format(Instant.parse(f[2]).atZone(ZoneId.of(f[3])));
    }

    static String parse(String[] f) {
        DateTimeFormatter fmt = new DateTimeFormatterBuilder().appendPattern(f[1])
            .parseDefaulting(ChronoField.ERA, 1)
            .toFormatter(Locale.US).withResolverStyle(ResolverStyle.STRICT);
        TemporalAccessor ta = fmt.parse(f[2]);
        LocalDate d = ta.query(TemporalQueries.localDate());
        LocalTime t = ta.query(TemporalQueries.localTime());
        ZoneOffset off = ta.query(TemporalQueries.offset());
        LocalDateTime ldt = LocalDateTime.of(d != null ? d : LocalDate.of(1970, 1, 1), t != null ? t : LocalTime.MIDNIGHT);
        return ldt.toInstant(off != null ? off : ZoneOffset.UTC).toString();
    }
}
