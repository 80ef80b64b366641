/* The common-password list, embedded verbatim. */
    .section .rodata
    .global gh_pwlist_data
    .global gh_pwlist_end
gh_pwlist_data:
    .incbin "data/common-passwords.txt"
gh_pwlist_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
