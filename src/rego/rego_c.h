/* Confidant Rego engine: C API for embedding. No C++ exception crosses it.
 *
 *   confidant_policy* p = NULL; char* err = NULL;
 *   const char* files[] = {"policy.rego"}; const char* texts[] = {src};
 *   if (confidant_policy_compile(files, texts, 1, "{}", 1, &p, &err) != 0) { puts(err); confidant_free(err); }
 *   char* out = NULL;
 *   confidant_policy_eval(p, "data.agent_policy.CreateContainerRequest", input_json, &out, &err);
 *   ... out is the JSON value of the query ("null" if undefined is not used: undefined gives an empty string)
 *   confidant_free(out); confidant_policy_free(p);
 */
#ifndef CONFIDANT_REGO_C_H
#define CONFIDANT_REGO_C_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct confidant_policy confidant_policy;

/* Compiles modules (v0 != 0 selects Rego v0 syntax) with base data given as a
 * JSON object (NULL for none). Returns 0 on success; on failure returns 1 and
 * sets *error to a newly allocated message (free with confidant_free). */
int confidant_policy_compile(const char* const* files, const char* const* texts, int count, const char* data_json,
                             int v0, confidant_policy** out, char** error);

/* Evaluates a query whose first expression's value is returned as JSON in
 * *result (an empty string when undefined). input_json may be NULL.
 * Print output is appended, one line each, to *prints when prints is not NULL.
 * Returns 0 on success, 1 on error (*error set). Thread-safe per policy. */
int confidant_policy_eval(const confidant_policy* policy, const char* query, const char* input_json, char** result,
                          char** prints, char** error);

void confidant_policy_free(confidant_policy* policy);
void confidant_free(char* s);

#ifdef __cplusplus
}
#endif

#endif
