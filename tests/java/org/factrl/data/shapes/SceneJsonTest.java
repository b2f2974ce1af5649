package org.factrl.data.shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import java.nio.file.Files;
import java.nio.file.Path;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SceneJsonTest {
  @TempDir Path dir;

  private static final String GOOD_OBJECT =
      "{\"id\": 0, \"shape\": \"circle\", \"colour\": \"red\", \"size\": \"small\", \"x\": 0.25, \"y\": 0.5}";

  @Test
  void documentedExampleParses() {
    Scene s = SceneJson.parse("{\"id\": \"shapes-000003\", \"image\": \"shapes-000003.png\", \"environment\": \"beach\","
        + " \"objects\": [" + GOOD_OBJECT + "], \"extra\": true}", "a.json");
    assertEquals(new Scene("shapes-000003", "shapes-000003.png", Environment.BEACH,
        ImmutableList.of(new SceneObject(0, ShapeKind.CIRCLE, Colour.RED, Size.SMALL, 0.25, 0.5))), s);
  }

  @Test
  void scenesRoundTripExactly() {
    ImmutableList<Scene> scenes = SceneGenerator.withSeed(12).scenes(0, 200);
    for (Scene s : scenes.subList(0, 20)) {
      assertEquals(s, SceneJson.parse(SceneJson.toJsonString(s), "mem"));
    }
    assertEquals(scenes, SceneJson.parseList(SceneJson.toJsonString(scenes), "mem"));
    assertEquals(ImmutableList.of(), SceneJson.parseList(SceneJson.toJsonString(ImmutableList.of()), "mem"));
  }

  @Test
  void filesRoundTrip() throws Exception {
    ImmutableList<Scene> scenes = SceneGenerator.withSeed(13).scenes(0, 50);
    Path list = dir.resolve("out/annotations.json");
    SceneJson.writeList(list, scenes);
    assertEquals(scenes, SceneJson.readList(list));
    assertEquals(52, Files.readAllLines(list).size(), "one record per line between the brackets");
    Path one = dir.resolve("scene.json");
    SceneJson.write(one, scenes.get(7));
    assertEquals(scenes.get(7), SceneJson.read(one));
  }

  @Test
  void readerErrorsNameFileRecordAndField() throws Exception {
    ImmutableList<Scene> scenes = SceneGenerator.withSeed(14).scenes(0, 5);
    String text = SceneJson.toJsonString(scenes);
    // Make record 3's second object pink.
    String[] lines = text.split("\n");
    lines[4] = lines[4].replaceFirst("(\"id\":1,\"shape\":\"[a-z]+\",\"colour\":\")[a-z]+\"", "$1pink\"");
    assertTrue(lines[4].contains("pink"), lines[4]);
    Path file = dir.resolve("annotations.json");
    Files.writeString(file, String.join("\n", lines));
    FactRlException e = assertThrows(FactRlException.class, () -> SceneJson.readList(file));
    assertEquals(file + ": record 3: field 'objects[1].colour': unknown colour 'pink'"
        + " (expected red, green, blue, yellow, purple or orange)", e.getMessage());
  }

  @Test
  void malformedRecordsAreRejectedPrecisely() {
    String env = "\"environment\": \"beach\"";
    String head = "\"id\": \"s\", \"image\": \"s.png\", ";
    assertError("{" + head + "\"objects\": [" + GOOD_OBJECT + "]}", "a.json: field 'environment': missing");
    assertError("{\"image\": \"s.png\", " + env + ", \"objects\": [" + GOOD_OBJECT + "]}", "a.json: field 'id': missing");
    assertError("{\"id\": 7, \"image\": \"s.png\", " + env + ", \"objects\": [" + GOOD_OBJECT + "]}",
        "a.json: field 'id': expected a string, got the number 7");
    assertError("{\"id\": \"\", \"image\": \"s.png\", " + env + ", \"objects\": [" + GOOD_OBJECT + "]}",
        "a.json: field 'id': must not be empty");
    assertError("{" + head + "\"environment\": \"desert\", \"objects\": [" + GOOD_OBJECT + "]}",
        "a.json: field 'environment': unknown environment 'desert' (expected field, beach, snow, night or room)");
    assertError("{" + head + env + "}", "a.json: field 'objects': missing");
    assertError("{" + head + env + ", \"objects\": {}}", "a.json: field 'objects': expected an array, got an object");
    assertError("{" + head + env + ", \"objects\": []}", "a.json: field 'objects': expected 1..8 objects, got 0");
    assertError("{" + head + env + ", \"objects\": [" + (GOOD_OBJECT + ",").repeat(8) + GOOD_OBJECT + "]}",
        "a.json: field 'objects': expected 1..8 objects, got 9");
    assertError("{" + head + env + ", \"objects\": [" + GOOD_OBJECT + ", 3]}",
        "a.json: field 'objects[1]': expected an object, got the number 3");
    assertError("{" + head + env + ", \"objects\": [" + GOOD_OBJECT + ", " + GOOD_OBJECT + "]}",
        "a.json: field 'objects[1].id': duplicate object id 0");
    assertError("{" + head + env + ", \"objects\": [" + GOOD_OBJECT.replace("0.25", "1.5") + "]}",
        "a.json: field 'objects[0].x': expected a number in [0, 1], got 1.5");
    assertError("{" + head + env + ", \"objects\": [" + GOOD_OBJECT.replace("\"y\": 0.5", "\"y\": \"top\"") + "]}",
        "a.json: field 'objects[0].y': expected a number, got the string 'top'");
    assertError("{" + head + env + ", \"objects\": [" + GOOD_OBJECT.replace("\"id\": 0", "\"id\": 1.5") + "]}",
        "a.json: field 'objects[0].id': expected an integer >= 0, got 1.5");
    assertError("{" + head + env + ", \"objects\": [" + GOOD_OBJECT.replace("circle", "circles") + "]}",
        "a.json: field 'objects[0].shape': unknown shape 'circles' (expected circle, square, triangle, diamond, star or cross)");
    assertError("{" + head + env + ", \"objects\": [" + GOOD_OBJECT.replace("small", "tiny") + "]}",
        "a.json: field 'objects[0].size': unknown size 'tiny' (expected small or large)");
    assertError("[1]", "a.json: expected a JSON object (a scene record), got an array");
  }

  @Test
  void listErrorsNameTheRecord() {
    String ok = SceneJson.toJsonString(SceneGenerator.withSeed(1).scene(0)).replace("\n", "");
    FactRlException notObject = assertThrows(FactRlException.class,
        () -> SceneJson.parseList("[" + ok + ", \"oops\"]", "list.json"));
    assertEquals("list.json: record 1: expected a JSON object (a scene record), got the string 'oops'", notObject.getMessage());
    FactRlException dup = assertThrows(FactRlException.class, () -> SceneJson.parseList("[" + ok + ", " + ok + "]", "list.json"));
    assertEquals("list.json: record 1: field 'id': duplicate scene id 'shapes-000000'", dup.getMessage());
    FactRlException notArray = assertThrows(FactRlException.class, () -> SceneJson.parseList(ok, "list.json"));
    assertEquals("list.json: expected a JSON array of scene records, got an object", notArray.getMessage());
    FactRlException syntax = assertThrows(FactRlException.class, () -> SceneJson.parseList("[" + ok, "list.json"));
    assertTrue(syntax.getMessage().startsWith("list.json: not valid JSON: "), syntax.getMessage());
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("nope.json");
    FactRlException e = assertThrows(FactRlException.class, () -> SceneJson.readList(missing));
    assertEquals(missing + ": no such file", e.getMessage());
  }

  /** Issue 8, class 3: the annotation reader is as strict as every other reader (same StrictJson). */
  @Test
  void lenientSyntaxIsRejected() {
    String ok = "{\"id\": \"s\", \"image\": \"s.png\", \"environment\": \"beach\", \"objects\": [" + GOOD_OBJECT + "]}";
    SceneJson.parse(ok, "a.json");
    String[] lenient = {
        ok.replace("\"environment\": \"beach\"", "'environment': 'beach'"),     // single quotes
        ok.replace("\"environment\"", "/* c */ \"environment\""),               // block comment
        ok.replace("\"environment\": \"beach\",", "\"environment\": \"beach\", // c\n"), // line comment
        ok.replace("\"environment\"", "environment"),                           // unquoted key
        ok.replace("\"beach\"", "beach"),                                       // unquoted string
        ok.replace("\"s.png\"", "\"s\u0001.png\""),                           // raw control character
        ok.replace("\"s.png\"", "\"s\t.png\""),                               // raw tab
        ok + " {}",                                                             // trailing garbage
        ok + " x",
        ok.replace("0.25", "NaN"),
        ok.replace("}]}", "},]}"),                                              // trailing comma
        ok.replace("\"id\": \"s\",", "\"id\" = \"s\";"),
    };
    for (String json : lenient) {
      FactRlException e = assertThrows(FactRlException.class, () -> SceneJson.parse(json, "a.json"), json);
      assertTrue(e.getMessage().startsWith("a.json: not valid JSON: "), e.getMessage());
    }
  }

  @Test
  void duplicateKeysNameRecordAndField() throws Exception {
    ImmutableList<Scene> scenes = SceneGenerator.withSeed(14).scenes(0, 3);
    String[] lines = SceneJson.toJsonString(scenes).split("\n");
    lines[2] = lines[2].replaceFirst("\"colour\":", "\"colour\":\"red\",\"colour\":");
    Path file = dir.resolve("annotations.json");
    Files.writeString(file, String.join("\n", lines));
    FactRlException e = assertThrows(FactRlException.class, () -> SceneJson.readList(file));
    assertEquals(file + ": record 1: field 'objects[0].colour': duplicate key (a field may appear once per object)",
        e.getMessage());
    assertError("{\"id\": \"s\", \"id\": \"t\"}", "a.json: field 'id': duplicate key (a field may appear once per object)");
  }

  @Test
  void imageMustBeAFileName() {
    String rest = "\"environment\": \"beach\", \"objects\": [" + GOOD_OBJECT + "]}";
    assertError("{\"id\": \"s\", \"image\": \"\", " + rest, "a.json: field 'image': must not be empty");
    assertError("{\"id\": \"s\", \"image\": \"  \", " + rest, "a.json: field 'image': must not be empty");
    assertError("{\"id\": \"s\", \"image\": \"a\\u0000.png\", " + rest,
        "a.json: field 'image': control character U+0000 at index 1");
    assertError("{\"id\": \"s\", " + rest, "a.json: field 'image': missing");
    assertError("{\"id\": \"s\", \"image\": 3, " + rest, "a.json: field 'image': expected a string, got the number 3");
    assertError("{\"id\": \" \", \"image\": \"s.png\", " + rest, "a.json: field 'id': must not be empty");
  }

  @Test
  void wrongTypesAreNamed() {
    String head = "{\"id\": \"s\", \"image\": \"s.png\", ";
    assertError(head + "\"environment\": null, \"objects\": [" + GOOD_OBJECT + "]}",
        "a.json: field 'environment': expected a string, got null");
    assertError(head + "\"environment\": [\"beach\"], \"objects\": [" + GOOD_OBJECT + "]}",
        "a.json: field 'environment': expected a string, got an array");
    assertError(head + "\"environment\": \"beach\", \"objects\": null}", "a.json: field 'objects': expected an array, got null");
    assertError(head + "\"environment\": \"beach\", \"objects\": [" + GOOD_OBJECT.replace("0.25", "true") + "]}",
        "a.json: field 'objects[0].x': expected a number, got the boolean true");
    assertError(head + "\"environment\": \"beach\", \"objects\": [" + GOOD_OBJECT.replace("\"id\": 0", "\"id\": 1e400") + "]}",
        "a.json: field 'objects[0].id': expected an integer >= 0, got 1e400");
    assertError(head + "\"environment\": \"beach\", \"objects\": [" + GOOD_OBJECT.replace("\"id\": 0", "\"id\": 4294967296") + "]}",
        "a.json: field 'objects[0].id': expected an integer >= 0, got 4294967296");
    assertError("\"scene\"", "a.json: expected a JSON object (a scene record), got the string 'scene'");
  }

  @Test
  void badFilesAreNamed() throws Exception {
    Path latin1 = dir.resolve("latin1.json");
    Files.write(latin1, new byte[] {'[', '"', (byte) 0xE9, '"', ']'});
    assertEquals(latin1 + ": not UTF-8 text: invalid byte 0xE9 at offset 2 (line 1)", assertThrows(FactRlException.class, () -> SceneJson.readList(latin1)).getMessage());
    Path empty = Files.createFile(dir.resolve("empty.json"));
    assertEquals(empty + ": empty file, expected JSON", assertThrows(FactRlException.class, () -> SceneJson.read(empty)).getMessage());
    assertEquals(dir + ": not a regular file (a folder)", assertThrows(FactRlException.class, () -> SceneJson.readList(dir)).getMessage());
  }

  private static void assertError(String json, String message) {
    FactRlException e = assertThrows(FactRlException.class, () -> SceneJson.parse(json, "a.json"));
    assertEquals(message, e.getMessage());
  }
}
