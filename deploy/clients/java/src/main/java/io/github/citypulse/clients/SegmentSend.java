package io.github.citypulse.clients;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.ToNumberPolicy;
import com.google.gson.reflect.TypeToken;
import com.segment.analytics.Analytics;
import com.segment.analytics.Callback;
import com.segment.analytics.Log;
import com.segment.analytics.internal.AnalyticsVersion;
import com.segment.analytics.messages.AliasMessage;
import com.segment.analytics.messages.IdentifyMessage;
import com.segment.analytics.messages.Message;
import com.segment.analytics.messages.MessageBuilder;
import com.segment.analytics.messages.PageMessage;
import com.segment.analytics.messages.ScreenMessage;
import com.segment.analytics.messages.TrackMessage;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sends Segment-spec calls with Segment's own Java library, configured with nothing but the
 * collector's URL and a write key: the CityPulse client tests' driver (internal/engines/clientstest).
 *
 * <pre>java -cp "classes:libs/*" io.github.citypulse.clients.SegmentSend URL WRITE_KEY &lt; calls.json</pre>
 *
 * <p>stdin is a JSON array of calls in the Segment HTTP API's shape (type, messageId, userId,
 * anonymousId, previousId, event, name, category, properties, traits, context, timestamp); each
 * becomes the library's builder of that type. stdout gets one JSON line: the library's name and
 * version and what its callbacks reported. The exit status is 0 only when every message was
 * delivered. The library's own log goes to stderr.
 */
public final class SegmentSend {
  private SegmentSend() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: SegmentSend URL WRITE_KEY < calls.json");
      System.exit(2);
    }
    // Whole numbers stay whole (Gson's default would make 12 into 12.0).
    Gson in = new GsonBuilder().setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE).create();
    List<Map<String, Object>> calls;
    try (Reader r = new InputStreamReader(System.in, StandardCharsets.UTF_8)) {
      calls = in.fromJson(r, new TypeToken<List<Map<String, Object>>>() {}.getType());
    }

    List<String> succeeded = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    Analytics analytics =
        Analytics.builder(args[1])
            .endpoint(args[0])
            .log(new StderrLog())
            .callback(
                new Callback() {
                  @Override
                  public void success(Message message) {
                    synchronized (succeeded) {
                      succeeded.add(message.messageId());
                    }
                  }

                  @Override
                  public void failure(Message message, Throwable error) {
                    synchronized (failed) {
                      failed.add(message.messageId() + ": " + error);
                    }
                  }
                })
            .build();
    for (Map<String, Object> call : calls) {
      analytics.enqueue(builder(call));
    }
    analytics.flush();
    analytics.shutdown(); // waits until the queued batches are sent or have failed

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("library", "analytics-java");
    out.put("version", AnalyticsVersion.get());
    out.put("enqueued", calls.size());
    out.put("succeeded", succeeded);
    out.put("failed", failed);
    System.out.println(new Gson().toJson(out));
    System.exit(failed.isEmpty() && succeeded.size() == calls.size() ? 0 : 1);
  }

  @SuppressWarnings("unchecked")
  private static MessageBuilder<?, ?> builder(Map<String, Object> c) {
    String type = str(c, "type");
    MessageBuilder<?, ?> b;
    switch (type) {
      case "track":
        b = TrackMessage.builder(str(c, "event")).properties(map(c, "properties"));
        break;
      case "page":
        PageMessage.Builder page = PageMessage.builder(str(c, "name")).properties(map(c, "properties"));
        if (c.containsKey("category")) {
          page.category(str(c, "category"));
        }
        b = page;
        break;
      case "screen":
        b = ScreenMessage.builder(str(c, "name")).properties(map(c, "properties"));
        break;
      case "identify":
        b = IdentifyMessage.builder().traits(map(c, "traits"));
        break;
      case "alias":
        b = AliasMessage.builder(str(c, "previousId"));
        break;
      default:
        throw new IllegalArgumentException("unknown call type " + type);
    }
    if (c.containsKey("messageId")) {
      b.messageId(str(c, "messageId"));
    }
    if (c.containsKey("userId")) {
      b.userId(str(c, "userId"));
    }
    if (c.containsKey("anonymousId")) {
      b.anonymousId(str(c, "anonymousId"));
    }
    if (c.containsKey("timestamp")) {
      b.timestamp(Date.from(OffsetDateTime.parse(str(c, "timestamp")).toInstant()));
    }
    if (c.containsKey("context")) {
      b.context(map(c, "context"));
    }
    return b;
  }

  private static String str(Map<String, Object> c, String key) {
    Object v = c.get(key);
    if (!(v instanceof String)) {
      throw new IllegalArgumentException(key + " must be a string, not " + v);
    }
    return (String) v;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> c, String key) {
    Object v = c.get(key);
    return v instanceof Map ? (Map<String, Object>) v : new LinkedHashMap<>();
  }

  /** The library's DEBUG and ERROR lines (why a batch was retried or dropped) on stderr. */
  private static final class StderrLog implements Log {
    @Override
    public void print(Level level, String format, Object... args) {
      if (level != Level.VERBOSE) {
        System.err.println("analytics-java " + level + ": " + String.format(format, args));
      }
    }

    @Override
    public void print(Level level, Throwable error, String format, Object... args) {
      if (level != Level.VERBOSE) {
        System.err.println("analytics-java " + level + ": " + String.format(format, args) + ": " + error);
      }
    }
  }
}
