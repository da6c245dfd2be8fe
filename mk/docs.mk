# mk/docs.mk - the command grammar (lib/grammar.c, lib/lex.c), and what is
# generated from it: man pages, bash completion.  Included by the Makefile
# right after LIB_SRC is set.
