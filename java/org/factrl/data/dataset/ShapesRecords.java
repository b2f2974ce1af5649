package org.factrl.data.dataset;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import org.factrl.data.MmhalType;
import org.factrl.data.PopeSampling;
import org.factrl.data.format.Conversations;
import org.factrl.data.format.GroundTruthAnswer;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.format.PopeRecord;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.RlPrompt;
import org.factrl.data.format.Turn;
import org.factrl.data.judge.BootstrapPair;
import org.factrl.data.judge.Corruption;
import org.factrl.data.judge.CorruptionBootstrap;
import org.factrl.data.judge.ExactJudge;
import org.factrl.data.judge.Judgement;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.tasks.MmhalQuestion;
import org.factrl.data.shapes.tasks.MultipleChoiceQuestion;
import org.factrl.data.shapes.tasks.PopeProbe;
import org.factrl.data.shapes.tasks.PresenceProbe;
import org.factrl.data.shapes.tasks.SceneTasks;
import org.factrl.data.shapes.tasks.SftTasks;
import org.factrl.data.shapes.tasks.YesNoQuestion;

/**
 * Turns one scene's tasks into the records of the real file formats. Pure functions of the tasks
 * (no randomness of their own), so a data set is as deterministic as its generators.
 *
 * <ul>
 *   <li>pretraining corpus (LLaVA conversations): the five captions of each SFT scene, each
 *       answering a short-caption instruction;
 *   <li>SFT (LLaVA conversations), eleven per scene: {@code <id>-caption} (a short-caption
 *       instruction answered by one of the five captions: projector alignment); one single-turn
 *       conversation per MMHal type, {@code <id>-<type>} with MMHal's type name ({@code
 *       -holistic} is the detailed description), in varied wordings; {@code <id>-qa} (the yes/no
 *       questions, then the multiple-choice ones, as one multi-turn conversation); {@code
 *       <id>-pope} (balanced POPE-style presence probes, "Yes"/"No" first, multi-turn);
 *   <li>RL prompts: every yes/no and multiple-choice question with its ground-truth answer, plus one
 *       open description prompt; the facts are the five captions and, for questions, the rationale;
 *   <li>preferences: the {@link CorruptionBootstrap} pairs for the description prompt, with the
 *       judge's hallucination count of each output and the five captions as facts;
 *   <li>evaluation: the eight MMHal questions and the POPE probes of each sampling setting.
 * </ul>
 */
public final class ShapesRecords {
  /** The description prompt (LLaVA's detailed-description instruction). */
  public static final String DESCRIBE = "Describe the image in detail.";
  /** The caption prompt. */
  public static final String CAPTION = "Give a short caption of the image.";
  /** MMHal's {@code question_topic} for every shapes-world question. */
  public static final String TOPIC = "shapes";

  private ShapesRecords() {}

  /** The first human turn of a record with an image: the placeholder, a newline, the text. */
  public static String withImage(String text) {
    return Conversations.IMAGE_PLACEHOLDER + "\n" + text;
  }

  /**
   * The SFT conversations of a scene (see the class comment): the short caption, one open
   * question per MMHal type, the yes/no and multiple-choice questions, the POPE-style probes.
   */
  public static ImmutableList<LlavaConversation> sft(SceneTasks t) {
    Scene s = t.scene();
    SftTasks sft = t.sft();
    ImmutableList.Builder<LlavaConversation> out = ImmutableList.builder();
    out.add(single(s, "caption", sft.briefPrompt(), sft.briefCaption()));
    for (MmhalQuestion q : sft.open()) {
      out.add(single(s, q.type().mmhalName(), q.question(), q.gtAnswer()));
    }
    List<Turn> qa = new ArrayList<>();
    for (YesNoQuestion q : t.yesNo()) {
      qa.add(Turn.human(q.question()));
      qa.add(Turn.gpt(q.response()));
    }
    for (MultipleChoiceQuestion q : t.multipleChoice()) {
      qa.add(Turn.human(multipleChoicePrompt(q)));
      qa.add(Turn.gpt(multipleChoiceResponse(q)));
    }
    multiTurn(s, "qa", qa).ifPresent(out::add);
    List<Turn> pope = new ArrayList<>();
    for (PresenceProbe p : sft.probes()) {
      pope.add(Turn.human(p.question()));
      pope.add(Turn.gpt(p.reply()));
    }
    multiTurn(s, "pope", pope).ifPresent(out::add);
    return out.build();
  }

  /**
   * The pretraining corpus records of a scene: each of its five captions answering a short-caption
   * instruction ({@code <scene>-pretrain-<k>}), the instructions rotated by scene index so no
   * wording goes with one caption family.
   */
  public static ImmutableList<LlavaConversation> pretrain(SceneTasks t, int sceneIndex) {
    ImmutableList<String> prompts = SftTasks.briefPrompts();
    ImmutableList.Builder<LlavaConversation> out = ImmutableList.builder();
    for (int k = 0; k < t.captions().size(); k++) {
      out.add(single(t.scene(), "pretrain-" + k, prompts.get(Math.floorMod(sceneIndex + k, prompts.size())),
          t.captions().get(k)));
    }
    return out.build();
  }

  /** A one-question conversation {@code <scene>-<suffix>}. */
  private static LlavaConversation single(Scene s, String suffix, String question, String answer) {
    return LlavaConversation.withImage(s.id() + "-" + suffix, s.image(),
        List.of(Turn.human(withImage(question)), Turn.gpt(answer)));
  }

  /** Alternating turns as one conversation, the image placeholder in the first; empty for no turns. */
  private static Optional<LlavaConversation> multiTurn(Scene s, String suffix, List<Turn> turns) {
    if (turns.isEmpty()) {
      return Optional.empty();
    }
    List<Turn> copy = new ArrayList<>(turns);
    copy.set(0, Turn.human(withImage(copy.get(0).value())));
    return Optional.of(LlavaConversation.withImage(s.id() + "-" + suffix, s.image(), copy));
  }

  /** The RL prompts of a scene: yes/no, multiple choice, then the open description prompt. */
  public static ImmutableList<RlPrompt> rlPrompts(SceneTasks t) {
    Scene s = t.scene();
    ImmutableList.Builder<RlPrompt> out = ImmutableList.builder();
    int k = 0;
    for (YesNoQuestion q : t.yesNo()) {
      out.add(new RlPrompt(s.id() + "-rl-" + k++, Optional.of(s.image()),
          ImmutableList.of(Turn.human(withImage(q.question()))), t.captions(),
          Optional.of(q.explanation()), Optional.of(GroundTruthAnswer.yesNo(q.answer()))));
    }
    for (MultipleChoiceQuestion q : t.multipleChoice()) {
      out.add(new RlPrompt(s.id() + "-rl-" + k++, Optional.of(s.image()),
          ImmutableList.of(Turn.human(withImage(multipleChoicePrompt(q)))), t.captions(),
          Optional.of(q.rationale()), Optional.of(GroundTruthAnswer.multipleChoice(q.answerIndex(), q.choices()))));
    }
    out.add(new RlPrompt(s.id() + "-rl-" + k, Optional.of(s.image()),
        ImmutableList.of(Turn.human(withImage(DESCRIBE))), t.captions(), Optional.empty(), Optional.empty()));
    return out.build();
  }

  /**
   * The bootstrap preference pairs of a scene, each output judged, each carrying the scene's
   * captions as its facts. A pair the judge does not rank the bootstrap's way would teach the reward
   * model noise, so it is left out and counted in {@link JudgedPairs#rejected}: for a corruption,
   * the better output must have no hallucination and the worse at least one; for an omission, both
   * none and the better more informative correct claims.
   */
  public static JudgedPairs preferences(SceneTasks t, CorruptionBootstrap bootstrap, ExactJudge judge) {
    Scene s = t.scene();
    ImmutableList.Builder<PreferencePair> out = ImmutableList.builder();
    int rejected = 0;
    for (BootstrapPair p : bootstrap.pairs(s)) {
      Judgement a = judge.judge(s, MmhalType.HOLISTIC_DESCRIPTION, DESCRIBE, p.responseA());
      Judgement b = judge.judge(s, MmhalType.HOLISTIC_DESCRIPTION, DESCRIBE, p.responseB());
      Judgement better = p.preferred() == 0 ? a : b;
      Judgement worse = p.preferred() == 0 ? b : a;
      boolean agrees = p.corruption() == Corruption.OMISSION
          ? better.hallucinationCount() == 0 && worse.hallucinationCount() == 0
              && better.informativeCount() > worse.informativeCount()
          : better.hallucinationCount() == 0 && worse.hallucinationCount() > 0;
      if (!agrees) {
        rejected++;
        continue;
      }
      String id = s.id() + "-pref-" + p.corruption().name().toLowerCase(Locale.ROOT);
      out.add(new PreferencePair(id, Optional.of(s.image()), ImmutableList.of(Turn.human(withImage(DESCRIBE))),
          p.responseA(), p.responseB(), p.preferred() + 1,
          OptionalInt.of(a.hallucinationCount()), OptionalInt.of(b.hallucinationCount()),
          t.captions(), Optional.empty()));
    }
    return new JudgedPairs(out.build(), rejected);
  }

  /** The pairs of one scene the judge agreed with, and how many it did not. */
  public record JudgedPairs(ImmutableList<PreferencePair> pairs, int rejected) {}

  /** The eight MMHal questions of a scene, as a response template (empty model answers). */
  public static ImmutableList<MmhalRecord> mmhal(SceneTasks t) {
    Scene s = t.scene();
    ImmutableList.Builder<MmhalRecord> out = ImmutableList.builder();
    for (MmhalQuestion q : t.mmhal()) {
      out.add(new MmhalRecord(q.type(), TOPIC, s.id(), s.image(), q.imageContent(), q.question(),
          q.gtAnswer(), ""));
    }
    return out.build();
  }

  /** The POPE probes of one sampling setting; ids continue from {@code firstId}. */
  public static ImmutableList<PopeRecord> pope(SceneTasks t, PopeSampling sampling, int firstId) {
    ImmutableList.Builder<PopeRecord> out = ImmutableList.builder();
    int id = firstId;
    for (PopeProbe p : t.pope(sampling)) {
      out.add(new PopeRecord(id++, t.scene().image(), p.question(), p.present()));
    }
    return out.build();
  }

  /** The question and its lettered choices, one per line. */
  public static String multipleChoicePrompt(MultipleChoiceQuestion q) {
    return q.prompt();
  }

  /**
   * "B. two" then the rationale on the next line: the leading letter is what the symbolic reward
   * checks, the rationale teaches the model why (A-OKVQA style).
   */
  public static String multipleChoiceResponse(MultipleChoiceQuestion q) {
    return q.answerLetter() + ". " + q.answer() + "\n" + q.rationale();
  }
}
