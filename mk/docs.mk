# mk/docs.mk - what is generated from the command grammar (lib/grammar.c):
# man pages, bash completion; and the grammar's tests.  Included by the
# Makefile after the source lists are set.
#
# tools/gen_docs is built and run on the build machine; it reads the same
# table the daemon and tapswitchctl are linked with, so the documents
# cannot drift from the commands.  Only variables set before the include
# appear in prerequisites here (BUILD, LIB_SRC, obj); recipes may use any.

GEN_DOCS        := $(BUILD)/tools/gen_docs
MAN_PAGES       := $(BUILD)/man/tapswitchctl.8 $(BUILD)/man/tapswitch.8
BASH_COMPLETION := $(BUILD)/bash-completion/tapswitchctl

DOCS += $(MAN_PAGES) $(BASH_COMPLETION)
EXTRA_UNIT_TESTS += $(BUILD)/tests/check_grammar
INSTALL_EXTRA += install-docs

.PHONY: install-docs

$(GEN_DOCS): $(call obj,tools/gen_docs.c lib/grammar.c)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# gen_docs MODE > FILE, through a temporary file: a failed run leaves
# nothing that looks up to date.
define gen_docs
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)$(GEN_DOCS) $(1) >$@.tmp && mv $@.tmp $@
endef

$(BUILD)/man/commands.man: $(GEN_DOCS)
	$(call gen_docs,man-commands)

$(BUILD)/man/summary.man: $(GEN_DOCS)
	$(call gen_docs,man-summary)

# The template's placeholder line becomes the generated section.
define man_page
	@echo "  GEN     $@"
	$(Q)sed -e '/^$(1)$$/{r $(2)' -e 'd;}' $< >$@.tmp && mv $@.tmp $@
endef

$(BUILD)/man/tapswitchctl.8: docs/man/tapswitchctl.8.in $(BUILD)/man/commands.man
	$(call man_page,@COMMANDS@,$(BUILD)/man/commands.man)

$(BUILD)/man/tapswitch.8: docs/man/tapswitch.8.in $(BUILD)/man/summary.man
	$(call man_page,@COMMANDS@,$(BUILD)/man/summary.man)

$(BASH_COMPLETION): $(GEN_DOCS)
	$(call gen_docs,bash)

$(BUILD)/tests/check_grammar: $(call obj,tests/check_grammar.c \
		lib/grammar.c lib/lex.c lib/mac.c)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

install-docs: $(MAN_PAGES) $(BASH_COMPLETION)
	install -d $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(BASH_COMPLETION) \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/tapswitchctl
