#include <cstdio>
int main() { std::puts("confidant: not built yet"); return 1; }
