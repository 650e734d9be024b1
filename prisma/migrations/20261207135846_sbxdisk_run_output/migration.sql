-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "detail" TEXT,
ADD COLUMN     "output" JSONB;
