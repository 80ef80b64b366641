#ifndef GH_TESTS_UNIT_TEST_LIST_H
#define GH_TESTS_UNIT_TEST_LIST_H

/* Every unit test, once, in the order they run. X(name) names
 * test_<name>, defined with TEST(name) in tests/unit/<layer>/test_<module>.c. */

/* The store's cases run on each backend: test_store_<case>_sqlite and
 * test_store_<case>_pg (tests/unit/store/test_store.c). */
#define STORE_CASE_BOTH(X, name) X(store_##name##_sqlite) X(store_##name##_pg)
#define STORE_CASES(X)                                                                             \
    STORE_CASE_BOTH(X, users)                                                                      \
    STORE_CASE_BOTH(X, user_fields_too_long)                                                       \
    STORE_CASE_BOTH(X, user_import)                                                                \
    STORE_CASE_BOTH(X, sessions)                                                                   \
    STORE_CASE_BOTH(X, session_rotate_and_revoke)                                                  \
    STORE_CASE_BOTH(X, sessions_of_user)                                                           \
    STORE_CASE_BOTH(X, sessions_purge)                                                             \
    STORE_CASE_BOTH(X, session_amr)                                                                \
    STORE_CASE_BOTH(X, revocations)                                                                \
    STORE_CASE_BOTH(X, outbox)                                                                     \
    STORE_CASE_BOTH(X, outbox_claim_concurrent)                                                    \
    STORE_CASE_BOTH(X, user_password_and_delete)                                                   \
    STORE_CASE_BOTH(X, user_rehash)                                                                \
    STORE_CASE_BOTH(X, user_login_failures)                                                        \
    STORE_CASE_BOTH(X, user_login_failures_concurrent)                                             \
    STORE_CASE_BOTH(X, users_hash_like)                                                            \
    STORE_CASE_BOTH(X, tx_commit)                                                                  \
    STORE_CASE_BOTH(X, tx_fails_half_way)                                                          \
    STORE_CASE_BOTH(X, reopen)                                                                     \
    STORE_CASE_BOTH(X, newer_schema)                                                               \
    STORE_CASE_BOTH(X, concurrent_inserts)                                                         \
    STORE_CASE_BOTH(X, concurrent_conflicting_transactions)                                        \
    STORE_CASE_BOTH(X, rotation_race)                                                              \
    STORE_CASE_BOTH(X, claim_sole_server)                                                          \
    STORE_CASE_BOTH(X, user_email)                                                                 \
    STORE_CASE_BOTH(X, email_tokens)                                                               \
    STORE_CASE_BOTH(X, email_token_race)                                                           \
    STORE_CASE_BOTH(X, password_requests)                                                          \
    STORE_CASE_BOTH(X, flows_begin_get)                                                            \
    STORE_CASE_BOTH(X, flows_malformed_tokens)                                                     \
    STORE_CASE_BOTH(X, flows_single_use)                                                           \
    STORE_CASE_BOTH(X, flows_attempts)                                                             \
    STORE_CASE_BOTH(X, flows_finish_race)                                                          \
    STORE_CASE_BOTH(X, flows_purge)                                                                \
    STORE_CASE_BOTH(X, authzreq_keep_and_use)                                                      \
    STORE_CASE_BOTH(X, authzreq_purge)                                                             \
    STORE_CASE_BOTH(X, passkeys_rows)                                                              \
    STORE_CASE_BOTH(X, passkeys_counter)                                                           \
    STORE_CASE_BOTH(X, passkeys_user_handle)                                                       \
    STORE_CASE_BOTH(X, passkeys_login_options_alike)                                               \
    STORE_CASE_BOTH(X, mfa_totp_lifecycle)                                                         \
    STORE_CASE_BOTH(X, mfa_other_key_refused)                                                      \
    STORE_CASE_BOTH(X, mfa_methods_and_step_up)                                                    \
    STORE_CASE_BOTH(X, mfa_recovery_code_race)                                                     \
    STORE_CASE_BOTH(X, mfa_confirm_binds_the_secret_read)                                          \
    STORE_CASE_BOTH(X, oidc_clients)                                                               \
    STORE_CASE_BOTH(X, oidc_codes_used_once)                                                       \
    STORE_CASE_BOTH(X, oidc_sessions)                                                              \
    STORE_CASE_BOTH(X, oidc_consents)                                                              \
    STORE_CASE_BOTH(X, oidc_code_race)

#define TEST_LIST(X)                                                                               \
    X(qrsvg_modules_match_the_symbol)                                                              \
    X(qrsvg_limits)                                                                                \
    X(totp_rfc6238_sha1_vectors)                                                                   \
    X(totp_match_window_and_replay)                                                                \
    X(totp_base32_unpadded)                                                                        \
    X(totp_uri_key_uri_format)                                                                     \
    X(mfa_seal_round_trip_and_tamper)                                                              \
    X(mfa_recovery_normalise)                                                                      \
    X(mfa_keys_derived)                                                                            \
    X(users_code_attempt_counts_wrong_codes)                                                       \
    X(b64_rfc4648_vectors)                                                                         \
    X(b64_url_alphabet)                                                                            \
    X(b64_round_trip_lengths)                                                                      \
    X(b64_rejects_padding)                                                                         \
    X(b64_rejects_foreign_chars)                                                                   \
    X(b64_rejects_whitespace)                                                                      \
    X(b64_rejects_bad_length)                                                                      \
    X(b64_rejects_trailing_bits)                                                                   \
    X(b64_capacity)                                                                                \
    X(b64_alphabet_every_byte)                                                                     \
    X(b64_alphabet_only_every_byte)                                                                \
    X(b64_public_decoder_agrees)                                                                   \
    X(jsonarena_parses_on_the_buffer)                                                              \
    X(jsonarena_spills_to_malloc)                                                                  \
    X(jsonarena_nests)                                                                             \
    X(webauthn_registration_vectors)                                                               \
    X(webauthn_registration_credential)                                                            \
    X(webauthn_assertion_vectors)                                                                  \
    X(webauthn_assertion_counter)                                                                  \
    X(webauthn_assertion_signature_binding)                                                        \
    X(webauthn_registration_truncated_and_trailing)                                                \
    X(webauthn_assertion_truncated)                                                                \
    X(webauthn_client_data)                                                                        \
    X(webauthn_client_data_empty_challenge)                                                        \
    X(webauthn_client_data_limit)                                                                  \
    X(webauthn_cbor_limits)                                                                        \
    X(webauthn_attestation_object_shape)                                                           \
    X(webauthn_cose_key_limit)                                                                     \
    X(webauthn_auth_data_limit)                                                                    \
    X(webauthn_status_texts)                                                                       \
    X(oidc_scope_parse_and_text)                                                                   \
    X(oidc_clients_add_get_authenticate)                                                           \
    X(oidc_code_exchange_issues_tokens)                                                            \
    X(oidc_code_refusals_and_reuse)                                                                \
    X(oidc_refresh_rotates_for_its_client_only)                                                    \
    X(oidc_client_credentials_and_revoke)                                                          \
    X(oidc_logout_and_delete_end_client_sessions)                                                  \
    X(oidc_logout_before_exchange)                                                                 \
    X(oidc_consents_union)                                                                         \
    X(oidc_userinfo_and_acr)                                                                       \
    X(oidc_secrets_stored_as_hashes)                                                               \
    X(oidc_purge_keeps_recent_codes)                                                               \
    X(jwt_typed_tokens)                                                                            \
    X(jwt_round_trip)                                                                              \
    X(jwt_round_trip_iss_aud)                                                                      \
    X(jwt_header_segment)                                                                          \
    X(jwt_jti_unique)                                                                              \
    X(jwt_forge_sanity)                                                                            \
    X(jwt_alg_none)                                                                                \
    X(jwt_other_algorithms)                                                                        \
    X(jwt_header_rejections)                                                                       \
    X(jwt_crit_header)                                                                             \
    X(jwt_tampered_header)                                                                         \
    X(jwt_tampered_payload)                                                                        \
    X(jwt_tampered_signature)                                                                      \
    X(jwt_signature_alphabet)                                                                      \
    X(jwt_signature_length)                                                                        \
    X(jwt_wrong_key)                                                                               \
    X(jwt_expired)                                                                                 \
    X(jwt_leeway)                                                                                  \
    X(jwt_nbf)                                                                                     \
    X(jwt_missing_exp)                                                                             \
    X(jwt_issuer)                                                                                  \
    X(jwt_audience)                                                                                \
    X(jwt_bad_sub)                                                                                 \
    X(jwt_sub_takes_every_64_bit_id)                                                               \
    X(jwt_embedded_nul)                                                                            \
    X(jwt_bad_username_sid)                                                                        \
    X(jwt_segment_count)                                                                           \
    X(jwt_empty_token)                                                                             \
    X(jwt_max_len)                                                                                 \
    X(jwt_padded_segment)                                                                          \
    X(jwt_standard_alphabet_segment)                                                               \
    X(jwt_duplicate_keys)                                                                          \
    X(jwt_payload_not_object)                                                                      \
    X(jwk_signatures_cross_checked_with_openssl)                                                   \
    X(jwk_kid_rfc8037_vector)                                                                      \
    X(jwk_kid_rfc7638_vector)                                                                      \
    X(jwk_refusals)                                                                                \
    X(jwk_refuses_halves_that_do_not_match)                                                        \
    X(jwt_asymmetric_rules)                                                                        \
    X(jwt_amr_signed_in_order)                                                                     \
    X(jwt_amr_parsed)                                                                              \
    X(jwt_amr_text)                                                                                \
    X(keyset_reload)                                                                               \
    X(keyset_hs256_jwks_empty)                                                                     \
    X(keyset_secret_file_race)                                                                     \
    X(keyset_read_secret_file)                                                                     \
    X(keyset_oidc_key_beside)                                                                      \
    X(password_min_length_code_points)                                                             \
    X(password_bcrypt_byte_limit)                                                                  \
    X(password_argon2_byte_limit)                                                                  \
    X(password_contains_nul)                                                                       \
    X(password_hash_cost_bounds)                                                                   \
    X(password_equals_username)                                                                    \
    X(password_too_common)                                                                         \
    X(password_invalid_utf8)                                                                       \
    X(password_invalid_utf8_rfc3629)                                                               \
    X(password_pwlist_size)                                                                        \
    X(password_pwlist_every_entry)                                                                 \
    X(password_bcrypt_hash_verify)                                                                 \
    X(password_bcrypt_no_truncation)                                                               \
    X(password_bcrypt_nul)                                                                         \
    X(password_argon2id_hash_verify)                                                               \
    X(password_foreign_bcrypt)                                                                     \
    X(password_foreign_argon2id)                                                                   \
    X(password_verify_unknown_format)                                                              \
    X(password_verify_dummy)                                                                       \
    X(password_needs_rehash)                                                                       \
    X(password_invisible_refused)                                                                  \
    X(password_rules_after_nfkc)                                                                   \
    X(password_nfc_nfd_one_password)                                                               \
    X(password_raw_hash_still_verifies)                                                            \
    X(tokencache_hit_copies_claims)                                                                \
    X(tokencache_expired_and_old_keys_miss)                                                        \
    X(tokencache_full_set_drops_first_to_expire)                                                   \
    X(tokencache_bounded)                                                                          \
    X(tokencache_none_and_keys)                                                                    \
    X(tokencache_threads)                                                                          \
    X(tokencache_holds_most_of_its_capacity)                                                       \
    X(revocation_add_contains)                                                                     \
    X(revocation_keeps_later_time)                                                                 \
    X(revocation_limits)                                                                           \
    X(revocation_many_and_purge)                                                                   \
    X(revocation_concurrent)                                                                       \
    X(emails_accepts)                                                                              \
    X(emails_refuses_shape)                                                                        \
    X(emails_refuses_controls)                                                                     \
    X(emails_lengths)                                                                              \
    X(emails_key_folds_ascii)                                                                      \
    X(username_lengths)                                                                            \
    X(username_allowed_chars)                                                                      \
    X(username_rejects)                                                                            \
    X(username_key_lowercases)                                                                     \
    X(username_storable)                                                                           \
    X(username_key_any)                                                                            \
    X(config_defaults)                                                                             \
    X(config_env_overrides)                                                                        \
    X(config_empty_env_is_unset)                                                                   \
    X(config_flags_override_env)                                                                   \
    X(config_flag_equals_form)                                                                     \
    X(config_first_arg)                                                                            \
    X(config_unknown_flag)                                                                         \
    X(config_unknown_flag_hides_value)                                                             \
    X(config_logs_and_metrics)                                                                     \
    X(config_flag_needs_value)                                                                     \
    X(config_bad_numbers)                                                                          \
    X(config_secret_key_file)                                                                      \
    X(config_algorithm_keys)                                                                       \
    X(config_secret_key_length)                                                                    \
    X(config_algorithm)                                                                            \
    X(config_password_hash)                                                                        \
    X(config_help)                                                                                 \
    X(config_empty_host)                                                                           \
    X(config_database_url)                                                                         \
    X(config_postgres_needs_secret_key)                                                            \
    X(config_host_resolved)                                                                        \
    X(config_host_unresolvable)                                                                    \
    X(config_groups)                                                                               \
    X(config_booleans)                                                                             \
    X(config_trusted_proxies_parsed)                                                               \
    X(hostaddr_pick_prefers_ipv4)                                                                  \
    X(hostaddr_resolve_numeric)                                                                    \
    X(hostaddr_resolve_names)                                                                      \
    X(hostaddr_format)                                                                             \
    X(listenfd_takes_one_listening_tcp_socket)                                                     \
    X(listenfd_refuses_anything_else)                                                              \
    X(pubaddr_url_forms)                                                                           \
    X(pubaddr_url_refused)                                                                         \
    X(pubaddr_url_length_limit)                                                                    \
    X(pubaddr_cookie_domain)                                                                       \
    X(pubaddr_webauthn)                                                                            \
    X(cli_default_command)                                                                         \
    X(cli_named_command)                                                                           \
    X(cli_subcommand_options_and_arguments)                                                        \
    X(cli_bad_usage)                                                                               \
    X(cli_bad_setting_runs_nothing)                                                                \
    X(cli_help_per_command)                                                                        \
    X(cli_help_global)                                                                             \
    X(cli_version)                                                                                 \
    X(cli_gatehouse_table)                                                                         \
    X(pool_runs_all_jobs)                                                                          \
    X(smtp_url_forms)                                                                              \
    X(smtp_url_refused)                                                                            \
    X(smtp_url_redact)                                                                             \
    X(mailaddr_valid)                                                                              \
    X(mailaddr_mailbox)                                                                            \
    X(stopper_runs_and_stops)                                                                      \
    X(stopper_wakes_a_long_wait)                                                                   \
    X(stopper_never_started)                                                                       \
    X(pool_submit_full_queue)                                                                      \
    X(pool_destroy_drains)                                                                         \
    X(pool_create_rejects_zero)                                                                    \
    X(metrics_label_escaping)                                                                      \
    X(metrics_family_and_values)                                                                   \
    X(metrics_histogram_cumulative)                                                                \
    X(metrics_http_routes_bounded)                                                                 \
    X(log_escape_controls)                                                                         \
    X(log_escape_quotes)                                                                           \
    X(log_escape_utf8)                                                                             \
    X(log_escape_unicode_controls)                                                                 \
    X(log_escape_truncates_whole)                                                                  \
    X(log_parse_settings)                                                                          \
    X(reply_problem_body)                                                                          \
    X(reply_problem_escapes)                                                                       \
    X(reply_problem_deterministic)                                                                 \
    X(reply_problem_replaces_body)                                                                 \
    X(reply_invalid_body)                                                                          \
    X(reply_invalid_lists_every_error)                                                             \
    X(reply_headers)                                                                               \
    X(reply_reason)                                                                                \
    X(form_pairs)                                                                                  \
    X(form_decoding)                                                                               \
    X(form_empty_parts)                                                                            \
    X(form_bad_escapes)                                                                            \
    X(form_nul)                                                                                    \
    X(form_utf8)                                                                                   \
    X(form_get_rules)                                                                              \
    X(form_content_type)                                                                           \
    X(tmpl_variables_escaped_in_html)                                                              \
    X(tmpl_raw_variable)                                                                           \
    X(tmpl_messages_hold_variables)                                                                \
    X(tmpl_sections)                                                                               \
    X(tmpl_syntax_errors)                                                                          \
    X(tmpl_name_length_limit)                                                                      \
    X(tmpl_nesting_limit)                                                                          \
    X(tmpl_output_limit)                                                                           \
    X(tmpl_empty_and_mode_of)                                                                      \
    X(i18n_lang_default)                                                                           \
    X(i18n_lang_q_values)                                                                          \
    X(i18n_lang_malformed_elements_skipped)                                                        \
    X(i18n_lang_long_header)                                                                       \
    X(i18n_catalogues_load)                                                                        \
    X(i18n_messages_for_engine)                                                                    \
    X(templates_embedded)                                                                          \
    X(templates_render_in_language)                                                                \
    X(authzreq_parse_full)                                                                         \
    X(authzreq_parse_no_client)                                                                    \
    X(authzreq_parse_errors)                                                                       \
    X(authzreq_parse_response_type_and_state)                                                      \
    X(authzreq_json_round_trip)                                                                    \
    X(pages_csrf_values)                                                                           \
    X(pages_csrf_check)                                                                            \
    X(pages_render_layout)                                                                         \
    X(pages_every_page_renders)                                                                    \
    X(pages_signin_pages_render)                                                                   \
    X(csv_records)                                                                                 \
    X(csv_quoted)                                                                                  \
    X(csv_lines_and_bom)                                                                           \
    X(csv_more_fields_than_room)                                                                   \
    X(csv_quote_round_trip)                                                                        \
    X(openapi_embedded)                                                                            \
    X(openapi_routes_match_operations)                                                             \
    X(openapi_security_schemes)                                                                    \
    X(docs_assets_table)                                                                           \
    X(docs_pages_refer_to_embedded_assets)                                                         \
    X(store_url_path)                                                                              \
    X(store_open_bad_urls)                                                                         \
    STORE_CASES(X)                                                                                 \
    X(store_pg_connection_terminated)                                                              \
    X(store_pg_watch)                                                                              \
    X(store_sqlite_watch_sees_other_writers)                                                       \
    X(store_claim_released_on_close)                                                               \
    X(store_stats_per_store)                                                                       \
    X(pct_plain_and_escapes)                                                                       \
    X(pct_plus)                                                                                    \
    X(pct_bad_escapes)                                                                             \
    X(pct_reads_only_len)                                                                          \
    X(pct_nul)                                                                                     \
    X(pct_capacity)                                                                                \
    X(numfmt_i64_matches_printf)                                                                   \
    X(numfmt_hex_matches_printf)                                                                   \
    X(numfmt_plural_after_a_count)                                                                 \
    X(dlib_loads_every_function_once)                                                              \
    X(dlib_reports_what_is_missing)                                                                \
    X(pct_every_byte)                                                                              \
    X(utf8_counts_code_points)                                                                     \
    X(utf8_single_bytes)                                                                           \
    X(utf8_overlong_forms)                                                                         \
    X(utf8_surrogates)                                                                             \
    X(utf8_upper_limit)                                                                            \
    X(utf8_truncated)                                                                              \
    X(utf8_stray_continuation)                                                                     \
    X(utf8_matches_reference)                                                                      \
    X(mediatype_exact_and_case)                                                                    \
    X(mediatype_absent_or_other)                                                                   \
    X(mediatype_prefixes)                                                                          \
    X(mediatype_whitespace)                                                                        \
    X(mediatype_parameters)                                                                        \
    X(mediatype_charset)                                                                           \
    X(mediatype_charset_is_a_parameter)                                                            \
    X(mediatype_malformed_parameters)                                                              \
    X(pgurl_is_postgres)                                                                           \
    X(pgurl_schemes)                                                                               \
    X(pgurl_every_part)                                                                            \
    X(pgurl_empty_parts)                                                                           \
    X(pgurl_percent_decoding)                                                                      \
    X(pgurl_bad_percent_encoding)                                                                  \
    X(pgurl_at_in_password)                                                                        \
    X(pgurl_at_after_host)                                                                         \
    X(pgurl_fragment)                                                                              \
    X(pgurl_ipv6)                                                                                  \
    X(pgurl_ports)                                                                                 \
    X(pgurl_host_lists)                                                                            \
    X(pgurl_every_libpq_keyword)                                                                   \
    X(pgurl_query_parameters)                                                                      \
    X(pgurl_unknown_parameters)                                                                    \
    X(pgurl_sqlalchemy_asyncpg_options_ignored)                                                    \
    X(pgurl_asyncpg_timeout)                                                                       \
    X(pgurl_asyncpg_ssl)                                                                           \
    X(pgurl_never_shows_password)                                                                  \
    X(pgurl_describe)                                                                              \
    X(pgurl_set_get_free)                                                                          \
    X(errors_problem_each_outcome)                                                                 \
    X(errors_problem_every_outcome_complete)                                                       \
    X(errors_problem_retry_after)                                                                  \
    X(errors_problem_misuse_is_500)                                                                \
    X(errors_problem_replaces_earlier_answer)                                                      \
    X(errors_oauth_grant_errors)                                                                   \
    X(errors_oauth_service_conditions_as_problems)                                                 \
    X(errors_oauth_request_body)                                                                   \
    X(api_client_keys)                                                                             \
    X(routes_user_data_needs_auth)                                                                 \
    X(routes_auth_matches_openapi)                                                                 \
    X(routes_passkeys_auth)                                                                        \
    X(routes_unique)                                                                               \
    X(auth_none_reads_nothing)                                                                     \
    X(auth_bearer_header)                                                                          \
    X(auth_bearer_refusals)                                                                        \
    X(auth_cookie)                                                                                 \
    X(auth_cookie_origin_check)                                                                    \
    X(auth_page_cookie)                                                                            \
    X(auth_handler_reads_the_header_only)                                                          \
    X(routes_oidc_auth)                                                                            \
    X(clientauth_basic)                                                                            \
    X(clientauth_body)                                                                             \
    X(clientauth_refusals)                                                                         \
    X(clientauth_limits)                                                                           \
    X(query_parse_decodes)                                                                         \
    X(query_parse_repeated_keys)                                                                   \
    X(query_parse_malformed)                                                                       \
    X(query_parse_param_limit)                                                                     \
    X(query_parse_length_limit)                                                                    \
    X(outcome_from_store)                                                                          \
    X(outcome_names)                                                                               \
    X(outcome_error_add)                                                                           \
    X(import_reports_each_duplicate_against_the_earliest_row)                                      \
    X(import_reports_rows_in_order_and_skips_invalid)                                              \
    X(import_refuses_costly_hashes)                                                                \
    X(import_writes_kept_ids_in_batches)                                                           \
    X(import_writes_new_ids_in_batches)                                                            \
    X(mail_enqueue_in_transaction)                                                                 \
    X(mail_enqueue_language)                                                                       \
    X(mail_enqueue_refuses_injection)                                                              \
    X(mail_retry_delay)                                                                            \
    X(mailmsg_bytes)                                                                               \
    X(mailmsg_rfc2047_subject_and_name)                                                            \
    X(mailmsg_ascii_headers)                                                                       \
    X(mailmsg_refuses_injection)                                                                   \
    X(mailmsg_size_limit)                                                                          \
    X(mailmsg_ids_from_randomness)                                                                 \
    X(users_register)                                                                              \
    X(users_register_rules)                                                                        \
    X(users_check_credentials)                                                                     \
    X(users_by_token)                                                                              \
    X(users_legacy_names)                                                                          \
    X(users_legacy_name_password_rules)                                                            \
    X(users_rehash_at_login)                                                                       \
    X(sessions_open_and_verify)                                                                    \
    X(sessions_verify_refusals)                                                                    \
    X(sessions_refresh_rotates)                                                                    \
    X(sessions_refresh_reuse_revokes)                                                              \
    X(sessions_logout_scopes)                                                                      \
    X(sessions_start_loads_revocations)                                                            \
    X(sessions_password_change_and_delete)                                                         \
    X(sessions_amr_signed_stored_and_kept)                                                         \
    X(netaddr_format)                                                                              \
    X(netaddr_format_unusable)                                                                     \
    X(netaddr_client_key)                                                                          \
    X(netaddr_parse_and_cidrs)                                                                     \
    X(forwarded_x_forwarded_for)                                                                   \
    X(forwarded_rfc7239)                                                                           \
    X(forwarded_x_real_ip)                                                                         \
    X(forwarded_header_names)                                                                      \
    X(throttle_lockout_doubles)                                                                    \
    X(throttle_address_and_names)                                                                  \
    X(throttle_reserve_counts_attempts_in_progress)                                                \
    X(throttle_registrations)                                                                      \
    X(throttle_mail_requests)                                                                      \
    X(throttle_hash_jobs)                                                                          \
    X(throttle_table_bounded)                                                                      \
    X(users_login_throttled)                                                                       \
    X(users_login_pending_until_done)

#endif
