package org.factrl.eval;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.factrl.data.PopeSampling;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.format.PopeCodec;
import org.factrl.data.format.PopeRecord;
import org.factrl.data.judge.MmhalJudging;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneJson;
import org.factrl.engine.FactRlException;

/**
 * What an evaluation reads, loaded and checked before any model runs: MMHal-format questions
 * ({@code response_template.json}: any such file whose {@code image_id}s the annotations hold), the
 * scenes' ground truth (the project's annotations format, {@link SceneJson}), the image folder the
 * records' paths are relative to, and POPE probe files by sampling name. Every MMHal {@code
 * image_id} must be in the annotations (the error names the record); a POPE file's sampling is the
 * first of random / popular / adversarial its file name contains, else the name without its
 * extension, and two files may not share one.
 *
 * @param sources the files read, for the metrics' settings (keys mmhal, annotations, images, pope.NAME)
 */
public record EvalData(ImmutableList<MmhalRecord> mmhal, ImmutableMap<String, Scene> scenes, Path images,
    ImmutableMap<String, ImmutableList<PopeRecord>> pope, ImmutableMap<String, String> sources) {
  public EvalData {
    Preconditions.checkNotNull(mmhal, "mmhal");
    Preconditions.checkNotNull(scenes, "scenes");
    Preconditions.checkNotNull(images, "images");
    Preconditions.checkNotNull(pope, "pope");
    Preconditions.checkNotNull(sources, "sources");
    for (int i = 0; i < mmhal.size(); i++) {
      MmhalRecord r = mmhal.get(i);
      if (!scenes.containsKey(r.imageId())) {
        throw new FactRlException("MMHal record " + i + ": image_id '" + r.imageId() + "' is not in the annotations");
      }
    }
  }

  /** Reads the files; errors name the file, record and field. */
  public static EvalData load(Path mmhal, Path annotations, Path images, List<Path> popeFiles) {
    Preconditions.checkNotNull(mmhal, "mmhal");
    Preconditions.checkNotNull(annotations, "annotations");
    Preconditions.checkNotNull(images, "images");
    Preconditions.checkNotNull(popeFiles, "popeFiles");
    if (!Files.isDirectory(images)) {
      throw new FactRlException(images + ": the image folder does not exist or is not a folder");
    }
    Map<String, String> sources = new LinkedHashMap<>();
    sources.put("mmhal", mmhal.toAbsolutePath().normalize().toString());
    sources.put("annotations", annotations.toAbsolutePath().normalize().toString());
    sources.put("images", images.toAbsolutePath().normalize().toString());
    ImmutableList<MmhalRecord> records = MmhalCodec.read(mmhal);
    ImmutableMap<String, Scene> scenes;
    try {
      scenes = MmhalJudging.byId(SceneJson.readList(annotations));
    } catch (IllegalArgumentException e) {
      throw new FactRlException(annotations + ": " + e.getMessage(), e);
    }
    Map<String, ImmutableList<PopeRecord>> pope = new LinkedHashMap<>();
    for (Path f : popeFiles) {
      String name = samplingName(f);
      if (pope.containsKey(name)) {
        throw new FactRlException(f + ": a second POPE file for sampling '" + name + "' (the first is "
            + sources.get("pope." + name) + ")");
      }
      pope.put(name, PopeCodec.read(f));
      sources.put("pope." + name, f.toAbsolutePath().normalize().toString());
    }
    try {
      return new EvalData(records, scenes, images.toAbsolutePath().normalize(), ImmutableMap.copyOf(pope),
          ImmutableMap.copyOf(sources));
    } catch (FactRlException e) {
      throw new FactRlException(mmhal + ": " + e.getMessage(), e);
    }
  }

  /** The evaluation split of a data set folder ({@code bin/factrl data}): MMHal and the three POPE files. */
  public static EvalData of(DataSetFiles files) {
    Preconditions.checkNotNull(files, "files");
    List<Path> pope = new java.util.ArrayList<>();
    for (PopeSampling s : PopeSampling.values()) {
      pope.add(files.pope(s));
    }
    return load(files.mmhal(), files.annotations(), files.images(), pope);
  }

  /** The sampling a POPE file holds, from its name ("pope_adversarial.json" → "adversarial"). */
  public static String samplingName(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    for (PopeSampling s : PopeSampling.values()) {
      if (name.contains(s.key())) {
        return s.key();
      }
    }
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  /** The first {@code limit} records of each file (0: all), for quick runs. */
  public EvalData limit(int limit) {
    Preconditions.checkArgument(limit >= 0, "limit must be >= 0, got %s", limit);
    if (limit == 0) {
      return this;
    }
    ImmutableMap.Builder<String, ImmutableList<PopeRecord>> p = ImmutableMap.builder();
    pope.forEach((k, v) -> p.put(k, v.subList(0, Math.min(limit, v.size()))));
    return new EvalData(mmhal.subList(0, Math.min(limit, mmhal.size())), scenes, images, p.build(), sources);
  }

  /** The scenes the MMHal questions are about, once each, in order of first use (CHAIR's images). */
  public ImmutableList<MmhalRecord> distinctImages() {
    Map<String, MmhalRecord> first = new LinkedHashMap<>();
    for (MmhalRecord r : mmhal) {
      first.putIfAbsent(r.imageId(), r);
    }
    return ImmutableList.copyOf(first.values());
  }
}
