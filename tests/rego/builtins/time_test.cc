// time.* builtins, called directly. Ports the conformance cases in
// conformance/opa/v1/time and checks Go layout parsing/formatting, Go
// durations and time zones (TZif files plus their POSIX TZ footer rules).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "rego/builtins/builtins.h"

using namespace confidant::rego;

namespace {

struct TzRow {
  const char* zone;
  int64_t unix;
  int64_t year;
  int month, day, hour, min, sec, wday, offset;
  const char* abbrev;
};

// Expected values computed with Python's zoneinfo from the same tzdata.
// clang-format off
const TzRow kTzRows[] = {
    {"America/New_York", -9000000000, 1684, 10, 19, 3, 3, 58, 4, -17762, "LMT"},
    {"America/New_York", -2208988800, 1899, 12, 31, 19, 0, 0, 0, -18000, "EST"},
    {"America/New_York", -1000000000, 1938, 4, 24, 18, 13, 20, 0, -14400, "EDT"},
    {"America/New_York", 0, 1969, 12, 31, 19, 0, 0, 3, -18000, "EST"},
    {"America/New_York", 1000000000, 2001, 9, 8, 21, 46, 40, 6, -14400, "EDT"},
    {"America/New_York", 1500000000, 2017, 7, 13, 22, 40, 0, 4, -14400, "EDT"},
    {"America/New_York", 1700000000, 2023, 11, 14, 17, 13, 20, 2, -18000, "EST"},
    {"America/New_York", 2147483648, 2038, 1, 18, 22, 14, 8, 1, -18000, "EST"},
    {"America/New_York", 2500000000, 2049, 3, 22, 0, 26, 40, 1, -14400, "EDT"},
    {"America/New_York", 4102444800, 2099, 12, 31, 19, 0, 0, 4, -18000, "EST"},
    {"America/New_York", 9000000000, 2255, 3, 14, 12, 0, 0, 3, -14400, "EDT"},
    {"America/New_York", 1616835599, 2021, 3, 27, 4, 59, 59, 6, -14400, "EDT"},
    {"America/New_York", 1616835600, 2021, 3, 27, 5, 0, 0, 6, -14400, "EDT"},
    {"America/New_York", 1667714399, 2022, 11, 6, 1, 59, 59, 0, -14400, "EDT"},
    {"America/New_York", 1667714400, 2022, 11, 6, 1, 0, 0, 0, -18000, "EST"},
    {"America/New_York", 4532794167, 2113, 8, 21, 17, 29, 27, 1, -14400, "EDT"},
    {"America/New_York", -6204257712, 1773, 5, 24, 6, 8, 46, 1, -17762, "LMT"},
    {"America/New_York", -6698404309, 1757, 9, 25, 23, 12, 9, 0, -17762, "LMT"},
    {"America/New_York", -2525612811, 1889, 12, 19, 3, 53, 9, 4, -18000, "EST"},
    {"America/New_York", -8838957352, 1689, 11, 26, 1, 8, 6, 6, -17762, "LMT"},
    {"America/New_York", 5747395930, 2152, 2, 16, 13, 52, 10, 3, -18000, "EST"},
    {"Europe/London", -9000000000, 1684, 10, 19, 7, 58, 45, 4, -75, "LMT"},
    {"Europe/London", -2208988800, 1900, 1, 1, 0, 0, 0, 1, 0, "GMT"},
    {"Europe/London", -1000000000, 1938, 4, 24, 23, 13, 20, 0, 3600, "BST"},
    {"Europe/London", 0, 1970, 1, 1, 1, 0, 0, 4, 3600, "BST"},
    {"Europe/London", 1000000000, 2001, 9, 9, 2, 46, 40, 0, 3600, "BST"},
    {"Europe/London", 1500000000, 2017, 7, 14, 3, 40, 0, 5, 3600, "BST"},
    {"Europe/London", 1700000000, 2023, 11, 14, 22, 13, 20, 2, 0, "GMT"},
    {"Europe/London", 2147483648, 2038, 1, 19, 3, 14, 8, 2, 0, "GMT"},
    {"Europe/London", 2500000000, 2049, 3, 22, 4, 26, 40, 1, 0, "GMT"},
    {"Europe/London", 4102444800, 2100, 1, 1, 0, 0, 0, 5, 0, "GMT"},
    {"Europe/London", 9000000000, 2255, 3, 14, 16, 0, 0, 3, 0, "GMT"},
    {"Europe/London", 1616835599, 2021, 3, 27, 8, 59, 59, 6, 0, "GMT"},
    {"Europe/London", 1616835600, 2021, 3, 27, 9, 0, 0, 6, 0, "GMT"},
    {"Europe/London", 1667714399, 2022, 11, 6, 5, 59, 59, 0, 0, "GMT"},
    {"Europe/London", 1667714400, 2022, 11, 6, 6, 0, 0, 0, 0, "GMT"},
    {"Europe/London", -4405005937, 1830, 5, 31, 3, 13, 8, 1, -75, "LMT"},
    {"Europe/London", 8569478617, 2241, 7, 22, 19, 43, 37, 4, 3600, "BST"},
    {"Europe/London", -7176703962, 1742, 7, 31, 7, 6, 3, 2, -75, "LMT"},
    {"Europe/London", -4929621079, 1813, 10, 15, 4, 47, 26, 5, -75, "LMT"},
    {"Europe/London", -7296270316, 1738, 10, 16, 10, 13, 29, 4, -75, "LMT"},
    {"Europe/London", -512048948, 1953, 10, 10, 12, 10, 52, 6, 0, "GMT"},
    {"Australia/Sydney", -9000000000, 1684, 10, 19, 18, 4, 52, 4, 36292, "LMT"},
    {"Australia/Sydney", -2208988800, 1900, 1, 1, 10, 0, 0, 1, 36000, "AEST"},
    {"Australia/Sydney", -1000000000, 1938, 4, 25, 8, 13, 20, 1, 36000, "AEST"},
    {"Australia/Sydney", 0, 1970, 1, 1, 10, 0, 0, 4, 36000, "AEST"},
    {"Australia/Sydney", 1000000000, 2001, 9, 9, 11, 46, 40, 0, 36000, "AEST"},
    {"Australia/Sydney", 1500000000, 2017, 7, 14, 12, 40, 0, 5, 36000, "AEST"},
    {"Australia/Sydney", 1700000000, 2023, 11, 15, 9, 13, 20, 3, 39600, "AEDT"},
    {"Australia/Sydney", 2147483648, 2038, 1, 19, 14, 14, 8, 2, 39600, "AEDT"},
    {"Australia/Sydney", 2500000000, 2049, 3, 22, 15, 26, 40, 1, 39600, "AEDT"},
    {"Australia/Sydney", 4102444800, 2100, 1, 1, 11, 0, 0, 5, 39600, "AEDT"},
    {"Australia/Sydney", 9000000000, 2255, 3, 15, 3, 0, 0, 4, 39600, "AEDT"},
    {"Australia/Sydney", 1616835599, 2021, 3, 27, 19, 59, 59, 6, 39600, "AEDT"},
    {"Australia/Sydney", 1616835600, 2021, 3, 27, 20, 0, 0, 6, 39600, "AEDT"},
    {"Australia/Sydney", 1667714399, 2022, 11, 6, 16, 59, 59, 0, 39600, "AEDT"},
    {"Australia/Sydney", 1667714400, 2022, 11, 6, 17, 0, 0, 0, 39600, "AEDT"},
    {"Australia/Sydney", 8379940272, 2235, 7, 21, 11, 11, 12, 2, 36000, "AEST"},
    {"Australia/Sydney", -1017938741, 1937, 9, 29, 17, 14, 19, 3, 36000, "AEST"},
    {"Australia/Sydney", 5128764310, 2132, 7, 11, 2, 45, 10, 5, 36000, "AEST"},
    {"Australia/Sydney", 8799440036, 2248, 11, 4, 19, 53, 56, 6, 39600, "AEDT"},
    {"Australia/Sydney", 8685782976, 2245, 3, 30, 8, 29, 36, 0, 39600, "AEDT"},
    {"Australia/Sydney", -8223786101, 1709, 5, 26, 17, 3, 11, 0, 36292, "LMT"},
    {"Asia/Kolkata", -9000000000, 1684, 10, 19, 13, 53, 28, 4, 21208, "LMT"},
    {"Asia/Kolkata", -2208988800, 1900, 1, 1, 5, 21, 10, 1, 19270, "MMT"},
    {"Asia/Kolkata", -1000000000, 1938, 4, 25, 3, 43, 20, 1, 19800, "IST"},
    {"Asia/Kolkata", 0, 1970, 1, 1, 5, 30, 0, 4, 19800, "IST"},
    {"Asia/Kolkata", 1000000000, 2001, 9, 9, 7, 16, 40, 0, 19800, "IST"},
    {"Asia/Kolkata", 1500000000, 2017, 7, 14, 8, 10, 0, 5, 19800, "IST"},
    {"Asia/Kolkata", 1700000000, 2023, 11, 15, 3, 43, 20, 3, 19800, "IST"},
    {"Asia/Kolkata", 2147483648, 2038, 1, 19, 8, 44, 8, 2, 19800, "IST"},
    {"Asia/Kolkata", 2500000000, 2049, 3, 22, 9, 56, 40, 1, 19800, "IST"},
    {"Asia/Kolkata", 4102444800, 2100, 1, 1, 5, 30, 0, 5, 19800, "IST"},
    {"Asia/Kolkata", 9000000000, 2255, 3, 14, 21, 30, 0, 3, 19800, "IST"},
    {"Asia/Kolkata", 1616835599, 2021, 3, 27, 14, 29, 59, 6, 19800, "IST"},
    {"Asia/Kolkata", 1616835600, 2021, 3, 27, 14, 30, 0, 6, 19800, "IST"},
    {"Asia/Kolkata", 1667714399, 2022, 11, 6, 11, 29, 59, 0, 19800, "IST"},
    {"Asia/Kolkata", 1667714400, 2022, 11, 6, 11, 30, 0, 0, 19800, "IST"},
    {"Asia/Kolkata", -1960920249, 1907, 11, 12, 9, 25, 51, 2, 19800, "IST"},
    {"Asia/Kolkata", -7400564733, 1735, 6, 27, 13, 27, 55, 1, 21208, "LMT"},
    {"Asia/Kolkata", 8449545783, 2237, 10, 3, 21, 33, 3, 2, 19800, "IST"},
    {"Asia/Kolkata", 8435854260, 2237, 4, 28, 10, 21, 0, 5, 19800, "IST"},
    {"Asia/Kolkata", 4769487839, 2121, 2, 20, 15, 13, 59, 4, 19800, "IST"},
    {"Asia/Kolkata", 5234153711, 2135, 11, 12, 17, 5, 11, 6, 19800, "IST"},
    {"America/Sao_Paulo", -9000000000, 1684, 10, 19, 4, 53, 32, 4, -11188, "LMT"},
    {"America/Sao_Paulo", -2208988800, 1899, 12, 31, 20, 53, 32, 0, -11188, "LMT"},
    {"America/Sao_Paulo", -1000000000, 1938, 4, 24, 19, 13, 20, 0, -10800, "-03"},
    {"America/Sao_Paulo", 0, 1969, 12, 31, 21, 0, 0, 3, -10800, "-03"},
    {"America/Sao_Paulo", 1000000000, 2001, 9, 8, 22, 46, 40, 6, -10800, "-03"},
    {"America/Sao_Paulo", 1500000000, 2017, 7, 13, 23, 40, 0, 4, -10800, "-03"},
    {"America/Sao_Paulo", 1700000000, 2023, 11, 14, 19, 13, 20, 2, -10800, "-03"},
    {"America/Sao_Paulo", 2147483648, 2038, 1, 19, 0, 14, 8, 2, -10800, "-03"},
    {"America/Sao_Paulo", 2500000000, 2049, 3, 22, 1, 26, 40, 1, -10800, "-03"},
    {"America/Sao_Paulo", 4102444800, 2099, 12, 31, 21, 0, 0, 4, -10800, "-03"},
    {"America/Sao_Paulo", 9000000000, 2255, 3, 14, 13, 0, 0, 3, -10800, "-03"},
    {"America/Sao_Paulo", 1616835599, 2021, 3, 27, 5, 59, 59, 6, -10800, "-03"},
    {"America/Sao_Paulo", 1616835600, 2021, 3, 27, 6, 0, 0, 6, -10800, "-03"},
    {"America/Sao_Paulo", 1667714399, 2022, 11, 6, 2, 59, 59, 0, -10800, "-03"},
    {"America/Sao_Paulo", 1667714400, 2022, 11, 6, 3, 0, 0, 0, -10800, "-03"},
    {"America/Sao_Paulo", 1536346672, 2018, 9, 7, 15, 57, 52, 5, -10800, "-03"},
    {"America/Sao_Paulo", -3417543251, 1861, 9, 13, 23, 19, 21, 5, -11188, "LMT"},
    {"America/Sao_Paulo", -1293198809, 1929, 1, 8, 7, 6, 31, 2, -10800, "-03"},
    {"America/Sao_Paulo", -7951613445, 1718, 1, 9, 7, 22, 47, 0, -11188, "LMT"},
    {"America/Sao_Paulo", 2057065647, 2035, 3, 9, 12, 7, 27, 5, -10800, "-03"},
    {"America/Sao_Paulo", 6140603681, 2164, 8, 2, 16, 14, 41, 4, -10800, "-03"},
    {"Pacific/Chatham", -9000000000, 1684, 10, 19, 20, 13, 48, 4, 44028, "LMT"},
    {"Pacific/Chatham", -2208988800, 1900, 1, 1, 12, 15, 0, 1, 44100, "+1215"},
    {"Pacific/Chatham", -1000000000, 1938, 4, 25, 10, 28, 20, 1, 44100, "+1215"},
    {"Pacific/Chatham", 0, 1970, 1, 1, 12, 45, 0, 4, 45900, "+1245"},
    {"Pacific/Chatham", 1000000000, 2001, 9, 9, 14, 31, 40, 0, 45900, "+1245"},
    {"Pacific/Chatham", 1500000000, 2017, 7, 14, 15, 25, 0, 5, 45900, "+1245"},
    {"Pacific/Chatham", 1700000000, 2023, 11, 15, 11, 58, 20, 3, 49500, "+1345"},
    {"Pacific/Chatham", 2147483648, 2038, 1, 19, 16, 59, 8, 2, 49500, "+1345"},
    {"Pacific/Chatham", 2500000000, 2049, 3, 22, 18, 11, 40, 1, 49500, "+1345"},
    {"Pacific/Chatham", 4102444800, 2100, 1, 1, 13, 45, 0, 5, 49500, "+1345"},
    {"Pacific/Chatham", 9000000000, 2255, 3, 15, 5, 45, 0, 4, 49500, "+1345"},
    {"Pacific/Chatham", 1616835599, 2021, 3, 27, 22, 44, 59, 6, 49500, "+1345"},
    {"Pacific/Chatham", 1616835600, 2021, 3, 27, 22, 45, 0, 6, 49500, "+1345"},
    {"Pacific/Chatham", 1667714399, 2022, 11, 6, 19, 44, 59, 0, 49500, "+1345"},
    {"Pacific/Chatham", 1667714400, 2022, 11, 6, 19, 45, 0, 0, 49500, "+1345"},
    {"Pacific/Chatham", 3348621511, 2076, 2, 11, 18, 23, 31, 2, 49500, "+1345"},
    {"Pacific/Chatham", 7017845536, 2192, 5, 21, 14, 17, 16, 1, 45900, "+1245"},
    {"Pacific/Chatham", -4790181064, 1818, 3, 17, 14, 22, 44, 2, 44028, "LMT"},
    {"Pacific/Chatham", 8686957840, 2245, 4, 13, 0, 35, 40, 0, 45900, "+1245"},
    {"Pacific/Chatham", -2909208856, 1877, 10, 24, 2, 40, 44, 3, 44100, "+1215"},
    {"Pacific/Chatham", 2841830143, 2060, 1, 21, 3, 0, 43, 3, 49500, "+1345"},
    {"Europe/Dublin", -9000000000, 1684, 10, 19, 7, 34, 39, 4, -1521, "LMT"},
    {"Europe/Dublin", -2208988800, 1899, 12, 31, 23, 34, 39, 0, -1521, "DMT"},
    {"Europe/Dublin", -1000000000, 1938, 4, 24, 23, 13, 20, 0, 3600, "IST"},
    {"Europe/Dublin", 0, 1970, 1, 1, 1, 0, 0, 4, 3600, "IST"},
    {"Europe/Dublin", 1000000000, 2001, 9, 9, 2, 46, 40, 0, 3600, "IST"},
    {"Europe/Dublin", 1500000000, 2017, 7, 14, 3, 40, 0, 5, 3600, "IST"},
    {"Europe/Dublin", 1700000000, 2023, 11, 14, 22, 13, 20, 2, 0, "GMT"},
    {"Europe/Dublin", 2147483648, 2038, 1, 19, 3, 14, 8, 2, 0, "GMT"},
    {"Europe/Dublin", 2500000000, 2049, 3, 22, 4, 26, 40, 1, 0, "GMT"},
    {"Europe/Dublin", 4102444800, 2100, 1, 1, 0, 0, 0, 5, 0, "GMT"},
    {"Europe/Dublin", 9000000000, 2255, 3, 14, 16, 0, 0, 3, 0, "GMT"},
    {"Europe/Dublin", 1616835599, 2021, 3, 27, 8, 59, 59, 6, 0, "GMT"},
    {"Europe/Dublin", 1616835600, 2021, 3, 27, 9, 0, 0, 6, 0, "GMT"},
    {"Europe/Dublin", 1667714399, 2022, 11, 6, 5, 59, 59, 0, 0, "GMT"},
    {"Europe/Dublin", 1667714400, 2022, 11, 6, 6, 0, 0, 0, 0, "GMT"},
    {"Europe/Dublin", 5984982402, 2159, 8, 28, 16, 6, 42, 2, 3600, "IST"},
    {"Europe/Dublin", -6130034736, 1775, 9, 30, 12, 9, 3, 6, -1521, "LMT"},
    {"Europe/Dublin", 937469900, 1999, 9, 16, 9, 18, 20, 4, 3600, "IST"},
    {"Europe/Dublin", 2576205455, 2051, 8, 21, 5, 37, 35, 1, 3600, "IST"},
    {"Europe/Dublin", 6437701069, 2174, 1, 1, 10, 17, 49, 6, 0, "GMT"},
    {"Europe/Dublin", -7040613014, 1746, 11, 22, 9, 44, 25, 2, -1521, "LMT"},
    {"America/St_Johns", -9000000000, 1684, 10, 19, 4, 29, 8, 4, -12652, "LMT"},
    {"America/St_Johns", -2208988800, 1899, 12, 31, 20, 29, 8, 0, -12652, "NST"},
    {"America/St_Johns", -1000000000, 1938, 4, 24, 18, 43, 20, 0, -12600, "NST"},
    {"America/St_Johns", 0, 1969, 12, 31, 20, 30, 0, 3, -12600, "NST"},
    {"America/St_Johns", 1000000000, 2001, 9, 8, 23, 16, 40, 6, -9000, "NDT"},
    {"America/St_Johns", 1500000000, 2017, 7, 14, 0, 10, 0, 5, -9000, "NDT"},
    {"America/St_Johns", 1700000000, 2023, 11, 14, 18, 43, 20, 2, -12600, "NST"},
    {"America/St_Johns", 2147483648, 2038, 1, 18, 23, 44, 8, 1, -12600, "NST"},
    {"America/St_Johns", 2500000000, 2049, 3, 22, 1, 56, 40, 1, -9000, "NDT"},
    {"America/St_Johns", 4102444800, 2099, 12, 31, 20, 30, 0, 4, -12600, "NST"},
    {"America/St_Johns", 9000000000, 2255, 3, 14, 13, 30, 0, 3, -9000, "NDT"},
    {"America/St_Johns", 1616835599, 2021, 3, 27, 6, 29, 59, 6, -9000, "NDT"},
    {"America/St_Johns", 1616835600, 2021, 3, 27, 6, 30, 0, 6, -9000, "NDT"},
    {"America/St_Johns", 1667714399, 2022, 11, 6, 2, 29, 59, 0, -12600, "NST"},
    {"America/St_Johns", 1667714400, 2022, 11, 6, 2, 30, 0, 0, -12600, "NST"},
    {"America/St_Johns", -5392365826, 1799, 2, 14, 5, 5, 22, 4, -12652, "LMT"},
    {"America/St_Johns", 3647309014, 2085, 7, 30, 2, 53, 34, 1, -9000, "NDT"},
    {"America/St_Johns", -6147487974, 1775, 3, 12, 8, 56, 14, 0, -12652, "LMT"},
    {"America/St_Johns", 2602819894, 2052, 6, 24, 3, 1, 34, 1, -9000, "NDT"},
    {"America/St_Johns", 7415041957, 2204, 12, 22, 2, 22, 37, 6, -12600, "NST"},
    {"America/St_Johns", 2461776158, 2048, 1, 4, 15, 12, 38, 6, -12600, "NST"},
    {"Africa/Casablanca", -9000000000, 1684, 10, 19, 7, 29, 40, 4, -1820, "LMT"},
    {"Africa/Casablanca", -2208988800, 1899, 12, 31, 23, 29, 40, 0, -1820, "LMT"},
    {"Africa/Casablanca", -1000000000, 1938, 4, 24, 22, 13, 20, 0, 0, "+00"},
    {"Africa/Casablanca", 0, 1970, 1, 1, 0, 0, 0, 4, 0, "+00"},
    {"Africa/Casablanca", 1000000000, 2001, 9, 9, 1, 46, 40, 0, 0, "+00"},
    {"Africa/Casablanca", 1500000000, 2017, 7, 14, 3, 40, 0, 5, 3600, "+01"},
    {"Africa/Casablanca", 1700000000, 2023, 11, 14, 23, 13, 20, 2, 3600, "+01"},
    {"Africa/Casablanca", 2147483648, 2038, 1, 19, 4, 14, 8, 2, 3600, "+01"},
    {"Africa/Casablanca", 2500000000, 2049, 3, 22, 5, 26, 40, 1, 3600, "+01"},
    {"Africa/Casablanca", 4102444800, 2100, 1, 1, 1, 0, 0, 5, 3600, "+01"},
    {"Africa/Casablanca", 9000000000, 2255, 3, 14, 17, 0, 0, 3, 3600, "+01"},
    {"Africa/Casablanca", 1616835599, 2021, 3, 27, 9, 59, 59, 6, 3600, "+01"},
    {"Africa/Casablanca", 1616835600, 2021, 3, 27, 10, 0, 0, 6, 3600, "+01"},
    {"Africa/Casablanca", 1667714399, 2022, 11, 6, 6, 59, 59, 0, 3600, "+01"},
    {"Africa/Casablanca", 1667714400, 2022, 11, 6, 7, 0, 0, 0, 3600, "+01"},
    {"Africa/Casablanca", 1572900754, 2019, 11, 4, 21, 52, 34, 1, 3600, "+01"},
    {"Africa/Casablanca", 8901631462, 2252, 1, 31, 4, 24, 22, 6, 3600, "+01"},
    {"Africa/Casablanca", 4387824504, 2109, 1, 17, 1, 8, 24, 4, 3600, "+01"},
    {"Africa/Casablanca", -4451825408, 1828, 12, 5, 5, 19, 32, 5, -1820, "LMT"},
    {"Africa/Casablanca", 2889470145, 2061, 7, 24, 23, 35, 45, 0, 3600, "+01"},
    {"Africa/Casablanca", 4948399491, 2126, 10, 23, 4, 24, 51, 3, 3600, "+01"},
    {"Etc/GMT+5", -9000000000, 1684, 10, 19, 3, 0, 0, 4, -18000, "-05"},
    {"Etc/GMT+5", -2208988800, 1899, 12, 31, 19, 0, 0, 0, -18000, "-05"},
    {"Etc/GMT+5", -1000000000, 1938, 4, 24, 17, 13, 20, 0, -18000, "-05"},
    {"Etc/GMT+5", 0, 1969, 12, 31, 19, 0, 0, 3, -18000, "-05"},
    {"Etc/GMT+5", 1000000000, 2001, 9, 8, 20, 46, 40, 6, -18000, "-05"},
    {"Etc/GMT+5", 1500000000, 2017, 7, 13, 21, 40, 0, 4, -18000, "-05"},
    {"Etc/GMT+5", 1700000000, 2023, 11, 14, 17, 13, 20, 2, -18000, "-05"},
    {"Etc/GMT+5", 2147483648, 2038, 1, 18, 22, 14, 8, 1, -18000, "-05"},
    {"Etc/GMT+5", 2500000000, 2049, 3, 21, 23, 26, 40, 0, -18000, "-05"},
    {"Etc/GMT+5", 4102444800, 2099, 12, 31, 19, 0, 0, 4, -18000, "-05"},
    {"Etc/GMT+5", 9000000000, 2255, 3, 14, 11, 0, 0, 3, -18000, "-05"},
    {"Etc/GMT+5", 1616835599, 2021, 3, 27, 3, 59, 59, 6, -18000, "-05"},
    {"Etc/GMT+5", 1616835600, 2021, 3, 27, 4, 0, 0, 6, -18000, "-05"},
    {"Etc/GMT+5", 1667714399, 2022, 11, 6, 0, 59, 59, 0, -18000, "-05"},
    {"Etc/GMT+5", 1667714400, 2022, 11, 6, 1, 0, 0, 0, -18000, "-05"},
    {"Etc/GMT+5", 7627630768, 2211, 9, 17, 13, 19, 28, 2, -18000, "-05"},
    {"Etc/GMT+5", -4358938649, 1831, 11, 15, 2, 42, 31, 2, -18000, "-05"},
    {"Etc/GMT+5", 5814147074, 2154, 3, 30, 3, 51, 14, 6, -18000, "-05"},
    {"Etc/GMT+5", 1949761041, 2031, 10, 14, 11, 17, 21, 2, -18000, "-05"},
    {"Etc/GMT+5", -910928039, 1941, 2, 18, 15, 26, 1, 2, -18000, "-05"},
    {"Etc/GMT+5", 7403682009, 2204, 8, 12, 13, 20, 9, 0, -18000, "-05"},
    {"Asia/Tehran", -9000000000, 1684, 10, 19, 11, 25, 44, 4, 12344, "LMT"},
    {"Asia/Tehran", -2208988800, 1900, 1, 1, 3, 25, 44, 1, 12344, "LMT"},
    {"Asia/Tehran", -1000000000, 1938, 4, 25, 1, 43, 20, 1, 12600, "+0330"},
    {"Asia/Tehran", 0, 1970, 1, 1, 3, 30, 0, 4, 12600, "+0330"},
    {"Asia/Tehran", 1000000000, 2001, 9, 9, 6, 16, 40, 0, 16200, "+0430"},
    {"Asia/Tehran", 1500000000, 2017, 7, 14, 7, 10, 0, 5, 16200, "+0430"},
    {"Asia/Tehran", 1700000000, 2023, 11, 15, 1, 43, 20, 3, 12600, "+0330"},
    {"Asia/Tehran", 2147483648, 2038, 1, 19, 6, 44, 8, 2, 12600, "+0330"},
    {"Asia/Tehran", 2500000000, 2049, 3, 22, 7, 56, 40, 1, 12600, "+0330"},
    {"Asia/Tehran", 4102444800, 2100, 1, 1, 3, 30, 0, 5, 12600, "+0330"},
    {"Asia/Tehran", 9000000000, 2255, 3, 14, 19, 30, 0, 3, 12600, "+0330"},
    {"Asia/Tehran", 1616835599, 2021, 3, 27, 13, 29, 59, 6, 16200, "+0430"},
    {"Asia/Tehran", 1616835600, 2021, 3, 27, 13, 30, 0, 6, 16200, "+0430"},
    {"Asia/Tehran", 1667714399, 2022, 11, 6, 9, 29, 59, 0, 12600, "+0330"},
    {"Asia/Tehran", 1667714400, 2022, 11, 6, 9, 30, 0, 0, 12600, "+0330"},
    {"Asia/Tehran", 7682481157, 2213, 6, 13, 18, 2, 37, 0, 12600, "+0330"},
    {"Asia/Tehran", -591608483, 1951, 4, 3, 19, 48, 37, 2, 12600, "+0330"},
    {"Asia/Tehran", -8351799619, 1705, 5, 5, 19, 5, 25, 2, 12344, "LMT"},
    {"Asia/Tehran", -3948183312, 1844, 11, 20, 13, 50, 32, 3, 12344, "LMT"},
    {"Asia/Tehran", -7997829142, 1716, 7, 23, 16, 13, 22, 4, 12344, "LMT"},
    {"Asia/Tehran", -2174766497, 1901, 2, 1, 5, 37, 27, 5, 12344, "LMT"},
    {"Pacific/Apia", -9000000000, 1684, 10, 19, 20, 33, 4, 4, 45184, "LMT"},
    {"Pacific/Apia", -2208988800, 1899, 12, 31, 12, 33, 4, 0, -41216, "LMT"},
    {"Pacific/Apia", -1000000000, 1938, 4, 24, 10, 43, 20, 0, -41400, "-1130"},
    {"Pacific/Apia", 0, 1969, 12, 31, 13, 0, 0, 3, -39600, "-11"},
    {"Pacific/Apia", 1000000000, 2001, 9, 8, 14, 46, 40, 6, -39600, "-11"},
    {"Pacific/Apia", 1500000000, 2017, 7, 14, 15, 40, 0, 5, 46800, "+13"},
    {"Pacific/Apia", 1700000000, 2023, 11, 15, 11, 13, 20, 3, 46800, "+13"},
    {"Pacific/Apia", 2147483648, 2038, 1, 19, 16, 14, 8, 2, 46800, "+13"},
    {"Pacific/Apia", 2500000000, 2049, 3, 22, 17, 26, 40, 1, 46800, "+13"},
    {"Pacific/Apia", 4102444800, 2100, 1, 1, 13, 0, 0, 5, 46800, "+13"},
    {"Pacific/Apia", 9000000000, 2255, 3, 15, 5, 0, 0, 4, 46800, "+13"},
    {"Pacific/Apia", 1616835599, 2021, 3, 27, 22, 59, 59, 6, 50400, "+14"},
    {"Pacific/Apia", 1616835600, 2021, 3, 27, 23, 0, 0, 6, 50400, "+14"},
    {"Pacific/Apia", 1667714399, 2022, 11, 6, 18, 59, 59, 0, 46800, "+13"},
    {"Pacific/Apia", 1667714400, 2022, 11, 6, 19, 0, 0, 0, 46800, "+13"},
    {"Pacific/Apia", 718422725, 1992, 10, 6, 14, 52, 5, 2, -39600, "-11"},
    {"Pacific/Apia", -4687450791, 1821, 6, 18, 14, 53, 13, 1, 45184, "LMT"},
    {"Pacific/Apia", 2022351633, 2034, 2, 1, 9, 20, 33, 3, 46800, "+13"},
    {"Pacific/Apia", -611508288, 1950, 8, 15, 21, 35, 12, 2, -39600, "-11"},
    {"Pacific/Apia", 4116799589, 2100, 6, 16, 16, 26, 29, 3, 46800, "+13"},
    {"Pacific/Apia", 5570156451, 2146, 7, 6, 22, 40, 51, 3, 46800, "+13"},
};
// clang-format on

class TimeBuiltin : public ::testing::Test {
 protected:
  void SetUp() override { register_time(reg_); }
  Value call(const std::string& fn, std::vector<Value> args) {
    const BuiltinInfo* b = reg_.find(fn);
    EXPECT_NE(b, nullptr) << fn;
    EXPECT_EQ(b->arity, static_cast<int>(args.size())) << fn;
    return b->fn(ctx_, args);
  }
  std::string error_of(const std::string& fn, std::vector<Value> args) {
    try {
      call(fn, std::move(args));
    } catch (const BuiltinError& e) {
      return e.code + ": " + e.what();
    }
    return "";
  }
  int64_t parse_ns(const char* layout, const char* value) {
    return call("time.parse_ns", {Value::string(layout), Value::string(value)}).small_int();
  }
  std::string parse_error(const char* layout, const char* value) {
    return error_of("time.parse_ns", {Value::string(layout), Value::string(value)});
  }
  int64_t duration(const char* s) { return call("time.parse_duration_ns", {Value::string(s)}).small_int(); }
  std::string format(int64_t ns, const char* tz, const char* layout) {
    return call("time.format", {Value::array({Value::integer(ns), Value::string(tz), Value::string(layout)})}).str();
  }
  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

Value ints(std::initializer_list<int64_t> xs) {
  ValueVec v;
  for (int64_t x : xs) v.push_back(Value::integer(x));
  return Value::array(std::move(v));
}

Value at(int64_t ns, const char* tz) { return Value::array({Value::integer(ns), Value::string(tz)}); }

}  // namespace

// ---------------------------------------------------------------- conformance

TEST_F(TimeBuiltin, ConformanceParseRFC3339) {
  const std::pair<const char*, int64_t> cases[] = {
      {"1677-09-21T00:12:43.145224192-00:00", INT64_MIN},
      {"1970-01-01T00:00:00-00:00", 0},
      {"2017-06-02T19:00:00-07:00", 1496455200000000000},
      {"2262-04-11T23:47:16.854775807-00:00", INT64_MAX},
  };
  for (const auto& [s, ns] : cases)
    EXPECT_EQ(call("time.parse_rfc3339_ns", {Value::string(s)}), Value::integer(ns)) << s;
  EXPECT_EQ(error_of("time.parse_rfc3339_ns", {Value::string("1677-09-21T00:12:43.145224191-00:00")}),
            "eval_builtin_error: time.parse_rfc3339_ns: time outside of valid range");
  EXPECT_EQ(error_of("time.parse_rfc3339_ns", {Value::string("2262-04-11T23:47:16.854775808-00:00")}),
            "eval_builtin_error: time.parse_rfc3339_ns: time outside of valid range");
}

TEST_F(TimeBuiltin, ConformanceDurationDateClockWeekday) {
  EXPECT_EQ(duration("100ms"), 100000000);
  EXPECT_EQ(call("time.date", {Value::integer(1517814000LL * 1000000000)}), ints({2018, 2, 5}));
  const Value too_big = Value::number_from_text("1582977600000000000000");
  EXPECT_EQ(error_of("time.date", {too_big}), "eval_builtin_error: time.date: timestamp too big");
  EXPECT_EQ(call("time.clock", {at(1517832000LL * 1000000000, "America/New_York")}), ints({7, 0, 0}));
  EXPECT_EQ(call("time.clock", {Value::integer(1582977600LL * 1000000000)}), ints({12, 0, 0}));
  EXPECT_EQ(call("time.weekday", {Value::integer(1518177600000000000)}), Value::string("Friday"));
  EXPECT_EQ(error_of("time.weekday", {too_big}), "eval_builtin_error: time.weekday: timestamp too big");
}

TEST_F(TimeBuiltin, ConformanceAddDate) {
  EXPECT_EQ(call("time.add_date",
                 {Value::integer(1585852421593912000), Value::integer(3), Value::integer(9), Value::integer(12)}),
            Value::integer(1705257221593912000));
  EXPECT_EQ(error_of("time.add_date", {Value::integer(0), Value::integer(2262), Value::integer(1), Value::integer(1)}),
            "eval_builtin_error: time.add_date: time outside of valid range");
}

TEST_F(TimeBuiltin, ConformanceDiff) {
  const int64_t now = 1700000000123456789;
  EXPECT_EQ(call("time.diff", {Value::integer(now + 61000000000), Value::integer(now)}), ints({0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(call("time.diff", {at(now + 60000000000, "UTC"), at(now, "Asia/Shanghai")}), ints({0, 0, 0, 0, 1, 0}));
  auto day = [&](const char* d) { return Value::integer(parse_ns("2006-01-02", d)); };
  EXPECT_EQ(call("time.diff", {day("2020-02-02"), day("2020-03-01")}), ints({0, 0, 28, 0, 0, 0}));
  EXPECT_EQ(call("time.diff", {day("2021-02-02"), day("2021-03-01")}), ints({0, 0, 27, 0, 0, 0}));
  EXPECT_EQ(call("time.diff", {day("2004-02-29"), day("2005-03-01")}), ints({1, 0, 1, 0, 0, 0}));
}

TEST_F(TimeBuiltin, ConformanceFormat) {
  const int64_t ns = 1670006453141828752;
  EXPECT_EQ(call("time.format", {Value::integer(ns)}), Value::string("2022-12-02T18:40:53.141828752Z"));
  EXPECT_EQ(call("time.format", {at(ns, "Asia/Kolkata")}), Value::string("2022-12-03T00:10:53.141828752+05:30"));
  EXPECT_EQ(format(ns, "Asia/Kolkata", "Mon Jan 02 15:04:05 -0700 2006"), "Sat Dec 03 00:10:53 +0530 2022");
  EXPECT_EQ(format(ns, "Asia/Kolkata", "RFC1123Z"), "Sat, 03 Dec 2022 00:10:53 +0530");
  EXPECT_EQ(error_of("time.format", {Value::number_from_text("1.5829776e22")}),
            "eval_builtin_error: time.format: timestamp too big");
}

TEST_F(TimeBuiltin, ConformanceNowIsTheQueryTime) {
  ctx_.now_ns = 1234567890123;
  EXPECT_EQ(call("time.now_ns", {}), Value::integer(1234567890123));
  EXPECT_FALSE(reg_.find("time.now_ns")->deterministic);
  EXPECT_TRUE(reg_.find("time.parse_ns")->deterministic);
}

// -------------------------------------------------------------------- zones

TEST_F(TimeBuiltin, ZonesMatchTzdata) {
  for (const TzRow& r : kTzRows) {
    const Value t = at(r.unix * 1000000000, r.zone);
    SCOPED_TRACE(std::string(r.zone) + " @ " + std::to_string(r.unix));
    EXPECT_EQ(call("time.date", {t}), ints({r.year, r.month, r.day}));
    EXPECT_EQ(call("time.clock", {t}), ints({r.hour, r.min, r.sec}));
    static const char* days[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
    EXPECT_EQ(call("time.weekday", {t}), Value::string(days[r.wday]));
    const int off = r.offset < 0 ? -r.offset : r.offset;
    char want[64];
    std::snprintf(want, sizeof want, "%c%02d%02d%02d %s", r.offset < 0 ? '-' : '+', off / 3600, off / 60 % 60, off % 60,
                  r.abbrev);
    EXPECT_EQ(format(r.unix * 1000000000, r.zone, "-070000 MST"), want);
  }
}

TEST_F(TimeBuiltin, ZoneNamesAndErrors) {
  EXPECT_EQ(call("time.clock", {at(0, "")}), ints({0, 0, 0}));
  EXPECT_EQ(call("time.clock", {at(0, "UTC")}), ints({0, 0, 0}));
  EXPECT_EQ(format(0, "UTC", "MST Z07:00 -07:00"), "UTC Z +00:00");
  EXPECT_EQ(error_of("time.clock", {at(0, "Mars/Olympus")}),
            "eval_builtin_error: time.clock: unknown time zone Mars/Olympus");
  EXPECT_EQ(error_of("time.clock", {at(0, "../../etc/passwd")}),
            "eval_builtin_error: time.clock: time: invalid location name");
  EXPECT_EQ(error_of("time.clock", {at(0, "/etc/localtime")}),
            "eval_builtin_error: time.clock: time: invalid location name");
  // Two elements: the layout is optional; a third must be a string too.
  EXPECT_EQ(call("time.format", {Value::array({Value::integer(0), Value::string("UTC"), Value::string("")})}),
            Value::string("1970-01-01T00:00:00Z"));
}

TEST_F(TimeBuiltin, OperandErrors) {
  EXPECT_EQ(error_of("time.date", {Value::string("x")}),
            "eval_type_error: time.date: operand 1 must be either number (ns) or [number (ns), string (tz)] but got "
            "string");
  EXPECT_EQ(error_of("time.date", {Value::array({})}),
            "eval_type_error: time.date: operand 1 must be either number (ns) or [number (ns), string (tz)] but got "
            "array");
  EXPECT_EQ(error_of("time.date", {Value::array({Value::string("x")})}),
            "eval_type_error: time.date: operand 1 must be number but got string");
  EXPECT_EQ(error_of("time.date", {Value::array({Value::integer(0), Value::integer(1)})}),
            "eval_type_error: time.date: operand 1 must be string but got number");
  EXPECT_EQ(error_of("time.format", {Value::array({Value::integer(0), Value::string(""), Value::null()})}),
            "eval_type_error: time.format: operand 1 must be string but got null");
  // OPA says "operand 1" for the second time of time.diff as well.
  EXPECT_EQ(error_of("time.diff", {Value::integer(0), Value::boolean(true)}),
            "eval_type_error: time.diff: operand 1 must be either number (ns) or [number (ns), string (tz)] but got "
            "boolean");
  EXPECT_EQ(error_of("time.add_date",
                     {Value::integer(0), Value::number_from_text("1.5"), Value::integer(0), Value::integer(0)}),
            "eval_type_error: time.add_date: operand 2 must be integer number but got floating-point number");
  EXPECT_EQ(error_of("time.add_date", {Value::integer(0), Value::integer(0), Value::string("1"), Value::integer(0)}),
            "eval_type_error: time.add_date: operand 3 must be number but got string");
  EXPECT_EQ(error_of("time.parse_ns", {Value::integer(0), Value::string("")}),
            "eval_type_error: time.parse_ns: operand 1 must be string but got number");
  EXPECT_EQ(error_of("time.parse_duration_ns", {Value::null()}),
            "eval_type_error: time.parse_duration_ns: operand 1 must be string but got null");
}

TEST_F(TimeBuiltin, TimestampsGoThroughA64BitFloat) {
  EXPECT_EQ(error_of("time.date", {Value::number_from_text("1.5")}),
            "eval_builtin_error: time.date: timestamp too big");
  EXPECT_EQ(error_of("time.date", {Value::number_from_text("9223372036854775808")}),
            "eval_builtin_error: time.date: timestamp too big");
  // Rounded to 64 bits this is exactly 1: accepted, as by OPA.
  EXPECT_EQ(call("time.clock", {Value::number_from_text("0.99999999999999999999999")}), ints({0, 0, 0}));
  EXPECT_EQ(call("time.date", {Value::integer(INT64_MIN)}), ints({1677, 9, 21}));
  EXPECT_EQ(call("time.date", {Value::integer(-1)}), ints({1969, 12, 31}));
}

// ----------------------------------------------------------------- layouts

TEST_F(TimeBuiltin, FormatLayoutElements) {
  const int64_t ns = 1670006453141828752;  // Friday 2022-12-02 18:40:53.141828752 UTC
  EXPECT_EQ(format(ns, "UTC", "Monday, January 2, 2006 3:04:05.000 PM MST"),
            "Friday, December 2, 2022 6:40:53.141 PM UTC");
  EXPECT_EQ(format(ns, "UTC", "Mon Jan _2 __2 002 1 01 06 03 04 05 pm"), "Fri Dec  2 336 336 12 12 22 06 40 53 pm");
  EXPECT_EQ(format(ns, "UTC", ".999999|,000|.9|.0000000000"), ".141828|,141|.1|.141828752");
  EXPECT_EQ(format(1670006453000000000, "UTC", "05.999 05,000"), "53 53,000");
  EXPECT_EQ(format(ns, "America/New_York", "Z07:00 Z0700 Z07 -07 -0700 -07:00:00 MST"),
            "-05:00 -0500 -05 -05 -0500 -05:00:00 EST");
  EXPECT_EQ(format(ns, "Asia/Kolkata", "Z070000 Z07:00:00"), "+053000 +05:30:00");
  EXPECT_EQ(format(ns, "UTC", "Z070000 Z07:00:00 Z07"), "Z Z Z");
  // Words that merely start like elements are literal text.
  EXPECT_EQ(format(ns, "UTC", "Month Janet _2006 2006x"), "Month Janet _2022 2022x");
  EXPECT_EQ(format(ns, "UTC", ".00012"), ".00122");  // digits follow: not fractional seconds, "01" is the month
  EXPECT_EQ(format(0, "UTC", "2 _2 3 03 15 PM"), "1  1 12 12 00 AM");
  EXPECT_EQ(format(INT64_MIN, "UTC", "2006-01-02 002"), "1677-09-21 264");
  for (const char* name :
       {"ANSIC", "UnixDate", "RubyDate", "RFC822", "RFC822Z", "RFC850", "RFC1123", "RFC3339", "RFC3339Nano"}) {
    SCOPED_TRACE(name);
    static const std::pair<const char*, const char*> want[] = {
        {"ANSIC", "Fri Dec  2 18:40:53 2022"},
        {"UnixDate", "Fri Dec  2 18:40:53 UTC 2022"},
        {"RubyDate", "Fri Dec 02 18:40:53 +0000 2022"},
        {"RFC822", "02 Dec 22 18:40 UTC"},
        {"RFC822Z", "02 Dec 22 18:40 +0000"},
        {"RFC850", "Friday, 02-Dec-22 18:40:53 UTC"},
        {"RFC1123", "Fri, 02 Dec 2022 18:40:53 UTC"},
        {"RFC3339", "2022-12-02T18:40:53Z"},
        {"RFC3339Nano", "2022-12-02T18:40:53.141828752Z"},
    };
    for (const auto& [n, w] : want)
      if (std::string(n) == name) {
        EXPECT_EQ(format(ns, "UTC", name), w);
      }
  }
}

TEST_F(TimeBuiltin, ParseLayouts) {
  EXPECT_EQ(parse_ns("2006-01-02", "2021-03-04"), 1614816000000000000);
  EXPECT_EQ(parse_ns("ANSIC", "Thu Mar  4 05:06:07 2021"), 1614834367000000000);
  EXPECT_EQ(parse_ns("RFC1123Z", "Thu, 04 Mar 2021 05:06:07 -0130"), 1614834367000000000 + 5400000000000);
  EXPECT_EQ(parse_ns("RFC3339", "2021-03-04T05:06:07.5+01:00"), 1614834367500000000 - 3600000000000);
  EXPECT_EQ(parse_ns("RFC3339", "2021-03-04T05:06:07,25Z"), 1614834367250000000);
  EXPECT_EQ(parse_ns("RFC3339Nano", "2021-03-04T05:06:07Z"), 1614834367000000000);
  // Zone abbreviations unknown to the local zone (UTC) keep the clock time.
  EXPECT_EQ(parse_ns("RFC822", "04 Mar 21 05:06 PST"), 1614834360000000000);
  EXPECT_EQ(parse_ns("UnixDate", "Thu Mar  4 05:06:07 GMT+3 2021"), 1614834367000000000);
  EXPECT_EQ(parse_ns("UnixDate", "Thu Mar  4 05:06:07 UTC 2021"), 1614834367000000000);
  // Case-insensitive names, 12-hour clock, day of year, two-digit years.
  EXPECT_EQ(parse_ns("Jan 2 2006 3:04PM", "MAR 4 2021 12:30AM"), parse_ns("2006-01-02 15:04", "2021-03-04 00:30"));
  EXPECT_EQ(parse_ns("3pm Jan 2 2006", "12pm Mar 4 2021"), parse_ns("2006-01-02 15", "2021-03-04 12"));
  EXPECT_EQ(parse_error("3PM", "1pm"),
            "eval_builtin_error: time.parse_ns: parsing time \"1pm\" as \"3PM\": cannot parse \"pm\" as \"PM\"");
  EXPECT_EQ(parse_ns("2006 002", "2020 060"), parse_ns("2006-01-02", "2020-02-29"));
  EXPECT_EQ(parse_ns("2006 __2", "2021  60"), parse_ns("2006-01-02", "2021-03-01"));
  EXPECT_EQ(parse_ns("06-01-02", "69-01-01"), parse_ns("2006-01-02", "1969-01-01"));
  EXPECT_EQ(parse_ns("06-01-02", "68-01-01"), parse_ns("2006-01-02", "2068-01-01"));
  // Without a year Go gives year 0, outside the int64 nanosecond range.
  EXPECT_EQ(parse_error("15:04:05.000", "01:02:03.123"),
            "eval_builtin_error: time.parse_ns: time outside of valid range");
  EXPECT_EQ(parse_ns("2006 15:04:05.000", "2021 01:02:03.123"), parse_ns("2006", "2021") + 3723123000000);
  // Every numeric offset form.
  const int64_t day = parse_ns("2006-01-02", "2021-03-04");
  EXPECT_EQ(parse_ns("2006-01-02 -070000", "2021-03-04 +013015"), day - 5415000000000);
  EXPECT_EQ(parse_ns("2006-01-02 -07:00:00", "2021-03-04 -01:30:15"), day + 5415000000000);
  EXPECT_EQ(parse_ns("2006-01-02 Z07:00:00", "2021-03-04 Z"), day);
  EXPECT_EQ(parse_ns("2006-01-02 Z070000", "2021-03-04 -000002"), day + 2000000000);
  EXPECT_EQ(parse_ns("2006-01-02 Z07", "2021-03-04 +05"), day - 18000000000000);
  EXPECT_EQ(parse_ns("2006-01-02 -07", "2021-03-04 -24"), day + 86400000000000);
  EXPECT_EQ(parse_ns("2006-01-02 Z0700", "2021-03-04 +0060"), day - 3600000000000);
  // Go uses -1 as "no offset", so an offset of exactly -1 second is dropped.
  EXPECT_EQ(parse_ns("2006-01-02 -07:00:00", "2021-03-04 -00:00:01"), parse_ns("2006-01-02", "2021-03-04"));
  EXPECT_EQ(parse_ns("2006-01-02 -07:00:00", "2021-03-04 +00:00:01"),
            parse_ns("2006-01-02", "2021-03-04") - 1000000000);
  // Spaces in the layout match any run of spaces.
  EXPECT_EQ(parse_ns("Jan _2 2006", "Mar  4 2021"), parse_ns("Jan 2 2006", "Mar 4 2021"));
  EXPECT_EQ(parse_ns("Jan 2 2006", "Mar     4 2021"), parse_ns("Jan 2 2006", "Mar 4 2021"));
}

TEST_F(TimeBuiltin, ParseErrors) {
  const std::string p = "eval_builtin_error: time.parse_ns: parsing time ";
  EXPECT_EQ(parse_error("2006-01-02", "2021-02-30"), p + "\"2021-02-30\": day out of range");
  EXPECT_EQ(parse_error("2006-01-02", "2021-13-01"), p + "\"2021-13-01\": month out of range");
  EXPECT_EQ(parse_error("2006-01-02", "21-01-01"),
            p + "\"21-01-01\" as \"2006-01-02\": cannot parse \"21-01-01\" as \"2006\"");
  EXPECT_EQ(parse_error("2006-01-02", "2021-01-01x"), p + "\"2021-01-01x\": extra text: \"x\"");
  EXPECT_EQ(parse_error("2006-01-02", "2021/01/01"),
            p + "\"2021/01/01\" as \"2006-01-02\": cannot parse \"/01/01\" as \"-\"");
  EXPECT_EQ(parse_error("15:04", "24:00"), p + "\"24:00\": hour out of range");
  EXPECT_EQ(parse_error("2006 002", "2021 366"), p + "\"2021 366\": day-of-year out of range");
  EXPECT_EQ(parse_error("2006-01 002", "2021-02 001"), p + "\"2021-02 001\": day-of-year does not match month");
  EXPECT_EQ(parse_error("Mon 2006", "Xyz 2006"),
            p + "\"Xyz 2006\" as \"Mon 2006\": cannot parse \"Xyz 2006\" as \"Mon\"");
  EXPECT_EQ(parse_error("-07:00", "+0700"), p + "\"+0700\" as \"-07:00\": cannot parse \"+0700\" as \"-07:00\"");
  EXPECT_EQ(parse_error("-07:00", "+01-30"), p + "\"+01-30\" as \"-07:00\": cannot parse \"+01-30\" as \"-07:00\"");
  EXPECT_EQ(parse_error("-070000", "+01:3015"),
            p + "\"+01:3015\" as \"-070000\": cannot parse \"+01:3015\" as \"-070000\"");
  EXPECT_EQ(parse_error("-07:00", "*01:00"), p + "\"*01:00\" as \"-07:00\": cannot parse \"*01:00\" as \"-07:00\"");
  EXPECT_EQ(parse_error("-07:00", "+25:00"), p + "\"+25:00\": time zone offset hour out of range");
  EXPECT_EQ(parse_error("-07:00", "+01:61"), p + "\"+01:61\": time zone offset minute out of range");
  EXPECT_EQ(parse_error("2006", "\xe2\x82\xac\"\n"),
            p + "\"\\xe2\\x82\\xac\\\"\\x0a\" as \"2006\": cannot parse \"\\xe2\\x82\\xac\\\"\\x0a\" as \"2006\"");
  EXPECT_EQ(parse_error("2006-01-02T15:04:05.000", "2021-01-01T00:00:00.12"),
            p + "\"2021-01-01T00:00:00.12\" as \"2006-01-02T15:04:05.000\": cannot parse \".12\" as \".000\"");
  EXPECT_EQ(error_of("time.parse_ns", {Value::string("2006"), Value::string("9999")}),
            "eval_builtin_error: time.parse_ns: time outside of valid range");
}

TEST_F(TimeBuiltin, Durations) {
  EXPECT_EQ(duration("1h2m3.5s"), 3723500000000);
  EXPECT_EQ(duration("-1.5h"), -5400000000000);
  EXPECT_EQ(duration("+300ms"), 300000000);
  EXPECT_EQ(duration("1us"), 1000);
  EXPECT_EQ(duration("1\xC2\xB5s"), 1000);  // micro sign
  EXPECT_EQ(duration("1\xCE\xBCs"), 1000);  // Greek mu
  EXPECT_EQ(duration("1ns"), 1);
  EXPECT_EQ(duration(".5s"), 500000000);
  EXPECT_EQ(duration("1.s"), 1000000000);
  EXPECT_EQ(duration("0"), 0);
  EXPECT_EQ(duration("-0"), 0);
  EXPECT_EQ(duration("1.0000000001h"), 3600000000360);
  EXPECT_EQ(duration("9223372036854775807ns"), INT64_MAX);
  EXPECT_EQ(duration("-9223372036854775808ns"), INT64_MIN);
  EXPECT_EQ(duration("0.000000000000000000000000001s"), 0);
  const std::string e = "eval_builtin_error: time.parse_duration_ns: time: ";
  auto err = [&](const char* s) { return error_of("time.parse_duration_ns", {Value::string(s)}); };
  EXPECT_EQ(err(""), e + "invalid duration \"\"");
  EXPECT_EQ(err("foo"), e + "invalid duration \"foo\"");
  EXPECT_EQ(err("1"), e + "missing unit in duration \"1\"");
  EXPECT_EQ(err("1x"), e + "unknown unit \"x\" in duration \"1x\"");
  EXPECT_EQ(err("1d"), e + "unknown unit \"d\" in duration \"1d\"");
  EXPECT_EQ(err(".s"), e + "invalid duration \".s\"");
  EXPECT_EQ(err("9223372036854775808ns"), e + "invalid duration \"9223372036854775808ns\"");
  EXPECT_EQ(err("3000000h"), e + "invalid duration \"3000000h\"");
  EXPECT_EQ(err("1h "), e + "unknown unit \"h \" in duration \"1h \"");
}

TEST_F(TimeBuiltin, AddDateNormalisesLikeGo) {
  const int64_t jan31 = parse_ns("2006-01-02", "2021-01-31");
  auto add = [&](int64_t t, int64_t y, int64_t m, int64_t d) {
    return call("time.add_date", {Value::integer(t), Value::integer(y), Value::integer(m), Value::integer(d)});
  };
  EXPECT_EQ(add(jan31, 0, 1, 0), Value::integer(parse_ns("2006-01-02", "2021-03-03")));
  EXPECT_EQ(add(jan31, 0, -13, 0), Value::integer(parse_ns("2006-01-02", "2019-12-31")));
  EXPECT_EQ(add(jan31, 1, 0, -366), Value::integer(parse_ns("2006-01-02", "2021-01-30")));
  EXPECT_EQ(
      error_of("time.add_date", {Value::integer(0), Value::integer(INT64_MAX), Value::integer(0), Value::integer(0)}),
      "eval_builtin_error: time.add_date: time outside of valid range");
  EXPECT_EQ(
      error_of("time.add_date", {Value::integer(0), Value::integer(0), Value::integer(0), Value::integer(INT64_MIN)}),
      "eval_builtin_error: time.add_date: time outside of valid range");
  // Across a DST change the wall clock is kept.
  const int64_t before = parse_ns("2006-01-02 15:04 -0700", "2021-03-13 12:00 -0500");
  EXPECT_EQ(
      call("time.add_date", {at(before, "America/New_York"), Value::integer(0), Value::integer(0), Value::integer(1)}),
      Value::integer(before + 23 * 3600000000000LL));
}
