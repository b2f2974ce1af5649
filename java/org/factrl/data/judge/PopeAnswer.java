package org.factrl.data.judge;

/** A yes/no answer read from free text; UNPARSEABLE answers are scored as "no" and reported. */
public enum PopeAnswer { YES, NO, UNPARSEABLE }
